import type { CacheLinkType } from '../store/types.js';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import type { PathSegment } from '../../schema/yaml-source.js';
import type { RemoteSettings } from '../store/types.js';
import { configField, type RemoteEntry } from './config-schema.js';
import { findConfigFile, findProjectRoot } from './find-config.js';
import { readConfigFile, type ConfigFile } from './read-config.js';
import { expandEnvRefs } from './secrets.js';

/** Where a setting's value came from, strongest first. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

/** One effective setting. */
export interface Setting<T> {
  value: T;
  source: ConfigSource;
  /** `--tracker`, `MLPIPE_TRACKER`, `mlpipe.yaml:3:10` or `default`. */
  origin: string;
}

/** A remote cache to open: `openRemoteStore(target)`. Its `url` is s3://BUCKET/PREFIX, file://…, or an absolute folder path (a relative one in mlpipe.yaml is resolved against the file's folder). */
export interface RemoteTarget extends RemoteSettings {
  /** Its name under `remotes:`, when it is a configured one. */
  name?: string;
}

/** What command flags said (undefined: not given). */
export interface ConfigFlags {
  tracker?: string;
  /** A configured remote's name, or a URL / folder. */
  remote?: string;
  executor?: string;
  queue?: string;
  queuePrefix?: string;
  autopush?: boolean;
}

export interface ResolveOptions {
  /** Where mlpipe.yaml is looked for (walking up) and relative flag/env paths resolve; default: process.cwd(). */
  cwd?: string;
  flags?: ConfigFlags;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The environment variable of each setting: they override mlpipe.yaml, flags override them. */
export const CONFIG_ENV = {
  tracker: 'MLPIPE_TRACKER',
  remote: 'MLPIPE_REMOTE',
  executor: 'MLPIPE_EXECUTOR',
  queue: 'MLPIPE_QUEUE',
  queuePrefix: 'MLPIPE_QUEUE_PREFIX',
  autopush: 'MLPIPE_AUTOPUSH',
} as const;

/** The flag of each setting, for origins and messages. */
export const CONFIG_FLAG = {
  tracker: '--tracker',
  remote: '--remote',
  executor: '--executor',
  queue: '--queue',
  queuePrefix: '--queue-prefix',
  autopush: '--push',
} as const;

/** The settings the resolver knows. */
export type ConfigKey = keyof typeof CONFIG_ENV;
type Key = ConfigKey;
/** The key of mlpipe.yaml each setting is read from. */
export const FILE_KEY: Record<Key, string> = { tracker: 'tracker', remote: 'default_remote', executor: 'executor', queue: 'queue', queuePrefix: 'queue_prefix', autopush: 'autopush' };

export type Executor = 'local' | 'queue';

/**
 * The effective project configuration: each setting from its command flag, else its environment
 * variable (CONFIG_ENV), else mlpipe.yaml (found by walking up from `cwd`), else its default. Each
 * setting is resolved when first read, so a bad value of one (an unknown MLPIPE_REMOTE) does not
 * stop a command that never reads it; a bad mlpipe.yaml stops every command (ConfigError).
 */
export class ProjectConfig {
  /** The mlpipe.yaml in force, if there is one. */
  readonly file: ConfigFile | undefined;
  /** findProjectRoot(cwd): the folder of mlpipe.yaml, else the git root, else cwd. */
  readonly root: string;
  readonly cwd: string;
  private readonly flags: ConfigFlags;
  private readonly env: NodeJS.ProcessEnv;
  private readonly cache = new Map<Key, Setting<unknown>>();

  constructor(opts: ResolveOptions = {}) {
    this.cwd = resolve(opts.cwd ?? process.cwd());
    this.flags = opts.flags ?? {};
    this.env = opts.env ?? process.env;
    const found = findConfigFile(this.cwd);
    this.file = found ? readConfigFile(found, this.cwd) : undefined;
    this.root = findProjectRoot(this.cwd);
  }

  /** The tracker setting (a postgresql:// URL with `${env.NAME}` expanded, or an SQLite path), or undefined for RUNS_DIR/tracker.db. */
  get tracker(): Setting<string | undefined> {
    return this.setting<string | undefined, string>('tracker', (s) => s, (written, origin) => {
      if (/^postgres(ql)?:\/\//i.test(written)) return expandEnvRefs(written, this.env, `tracker (${origin})`);
      const path = written.replace(/^(sqlite|file):(\/\/(?=\/))?/i, '');
      return isAbsolute(path) ? path : resolve(this.file!.dir, path);
    }, undefined);
  }

  /** The remote cache: --remote / MLPIPE_REMOTE (a configured name, or a URL / folder), else default_remote; undefined when none is set. */
  get remote(): Setting<RemoteTarget | undefined> {
    return this.setting<RemoteTarget | undefined, string>('remote', (s, origin) => this.remoteNamed(s, origin), (name) => this.remotes[name], undefined);
  }

  /** How restored workspace outs are placed (`cache.type` in mlpipe.yaml), in order of preference; default reflink, copy. */
  get cacheTypes(): readonly CacheLinkType[] {
    return this.file?.values.cache?.type ?? ['reflink', 'copy'];
  }

  /** The remotes of mlpipe.yaml by name, URLs resolved. */
  get remotes(): Record<string, RemoteTarget> {
    const written = this.file?.values.remotes ?? {};
    return Object.fromEntries(Object.entries(written).map(([name, r]) => [name, this.target(name, r)]));
  }

  /** Push the outputs of each run to the remote (`run --push`, MLPIPE_AUTOPUSH=1, `autopush: true`). */
  get autopush(): Setting<boolean> {
    return this.setting<boolean, boolean>('autopush', (s, origin) => parseBoolean(s, origin), (v) => v, defaultOf<boolean>('autopush'));
  }

  get executor(): Setting<Executor> {
    return this.setting<Executor, Executor>('executor', (s, origin) => parseExecutor(s, origin), (v) => v, defaultOf<Executor>('executor'));
  }

  /** The Redis URL of the job queue. */
  get queue(): Setting<string> {
    return this.setting<string, string>('queue', (s) => s, (v, origin) => expandEnvRefs(v, this.env, `queue (${origin})`), defaultOf<string>('queue'));
  }

  get queuePrefix(): Setting<string> {
    return this.setting<string, string>('queuePrefix', (s) => s, (v) => v, defaultOf<string>('queue_prefix'));
  }

  /** The remote `value` names: a configured remote, or a URL / folder (relative to cwd). */
  remoteNamed(value: string, origin: string): RemoteTarget {
    const remotes = this.remotes;
    if (Object.hasOwn(remotes, value)) return remotes[value];
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { url: value };
    if (/[/\\]/.test(value) || value.startsWith('.') || value.startsWith('~')) return { url: resolve(this.cwd, value) };
    const names = Object.keys(remotes);
    throw new UserError(`${origin} names the remote "${value}", but ${names.length ? `the configured remotes are ${names.join(', ')}` : 'no remotes are configured'}`, {
      hint: didYouMean(value, names) ?? `add it (mlpipe remote add ${value} URL), or give a folder as ./${value}`,
    });
  }

  private target(name: string, r: RemoteEntry): RemoteTarget {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(r.url);
    const url = scheme || isAbsolute(r.url) ? r.url : resolve(this.file!.dir, r.url);
    return clean({ name, url, endpoint: r.endpoint, region: r.region, pathStyle: r.path_style, profile: r.profile });
  }

  private setting<T, W>(key: Key, fromText: (s: string, origin: string) => T, fromFile: (v: W, origin: string) => T, fallback: T): Setting<T> {
    const cached = this.cache.get(key);
    if (cached) return cached as Setting<T>;
    const setting = this.compute(key, fromText, fromFile, fallback);
    this.cache.set(key, setting);
    return setting;
  }

  private compute<T, W>(key: Key, fromText: (s: string, origin: string) => T, fromFile: (v: W, origin: string) => T, fallback: T): Setting<T> {
    const at = this.whence(key);
    if (at.source === 'default') return { value: fallback, source: 'default', origin: 'default' };
    if (at.source === 'file') return { value: fromFile(at.written as W, at.origin), source: 'file', origin: at.origin };
    const value = typeof at.written === 'boolean' ? (at.written as T) : fromText(at.written as string, at.origin);
    return { value, source: at.source, origin: at.origin };
  }

  /**
   * Where a setting comes from and its value as written there (a flag's or variable's text, the
   * file's value before `${env.NAME}` is expanded), without reading it: what `mlpipe config list` shows.
   */
  whence(key: Key): { source: ConfigSource; origin: string; written?: unknown } {
    const flag = this.flags[key];
    if (typeof flag === 'boolean') return { source: 'flag', origin: CONFIG_FLAG[key], written: flag };
    if (flag !== undefined && flag.trim() !== '') return { source: 'flag', origin: CONFIG_FLAG[key], written: flag.trim() };
    const env = this.env[CONFIG_ENV[key]];
    if (env !== undefined && env.trim() !== '') return { source: 'env', origin: CONFIG_ENV[key], written: env.trim() };
    const written = (this.file?.values as Record<string, unknown> | undefined)?.[FILE_KEY[key]];
    if (written !== undefined) return { source: 'file', origin: this.file!.origin([FILE_KEY[key]]), written };
    return { source: 'default', origin: 'default' };
  }

  /** Where the value at `path` of mlpipe.yaml is written (`mlpipe.yaml:3:10`). */
  originOf(path: readonly PathSegment[]): string | undefined {
    return this.file?.origin(path);
  }
}

/** The project configuration in force for `opts.cwd` (default: the current folder). */
export function resolveConfig(opts: ResolveOptions = {}): ProjectConfig {
  return new ProjectConfig(opts);
}

function defaultOf<T>(key: string): T {
  return configField.properties[key].default as T;
}

function parseBoolean(s: string, origin: string): boolean {
  if (/^(1|true|yes|on)$/i.test(s)) return true;
  if (/^(0|false|no|off)$/i.test(s)) return false;
  throw new UserError(`${origin} is "${s}": expected true or false`, { hint: `set ${origin}=1 (or true) to push, 0 (or false) not to` });
}

function parseExecutor(s: string, origin: string): Executor {
  if (s === 'local' || s === 'queue') return s;
  throw new UserError(`${origin} is "${s}": expected local or queue`, { hint: didYouMean(s, ['local', 'queue']) ?? 'local runs stages here; queue hands them to `mlpipe worker`s' });
}

function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
