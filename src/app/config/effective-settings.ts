import { UserError } from '../../errors.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import { CONFIG_FILE } from '../../core/config/config-schema.js';
import { configPath } from '../../core/config/edit-config.js';
import type { ConfigKey, ConfigSource, ProjectConfig, RemoteTarget } from '../../core/config/resolve-config.js';
import { trackerPath } from '../../core/tracker/tracker-url.js';

/** One effective setting as `mlpipe config list` shows it. */
export interface SettingRow {
  /** The mlpipe.yaml key (`queue_prefix`), or `remote` for the remote in force. */
  key: string;
  /** The value, as written where it came from (a file's `${env.NAME}` unexpanded, a password in a flag or variable as ***); null when unset. */
  value: string | boolean | null;
  source: ConfigSource;
  /** `--tracker`, `MLPIPE_TRACKER`, `mlpipe.yaml:3:10` or `default`. */
  origin: string;
}

/** A remote of mlpipe.yaml as `remote list` shows it. */
export interface RemoteRow extends RemoteTarget {
  name: string;
  default: boolean;
}

/** `mlpipe config list --json`. */
export interface ConfigReport {
  schemaVersion: 1;
  /** The mlpipe.yaml in force, or null when there is none (a `config set` creates one at `root`). */
  file: string | null;
  root: string;
  settings: SettingRow[];
  remotes: RemoteRow[];
}

/** The settings `config list` shows, by their mlpipe.yaml key, with the resolver's key. */
const SHOWN: Array<[string, ConfigKey]> = [
  ['tracker', 'tracker'],
  ['remote', 'remote'],
  ['autopush', 'autopush'],
  ['executor', 'executor'],
  ['queue', 'queue'],
  ['queue_prefix', 'queuePrefix'],
];

/** Every effective setting and where it came from, and the configured remotes. */
export function configReport(config: ProjectConfig, runsDir: string): ConfigReport {
  return {
    schemaVersion: 1,
    file: config.file?.file ?? null,
    root: config.root,
    settings: SHOWN.map(([key]) => settingRow(config, key, runsDir)),
    remotes: remoteRows(config),
  };
}

/** The remotes of mlpipe.yaml, the default marked. */
export function remoteRows(config: ProjectConfig): RemoteRow[] {
  const def = config.file?.values.default_remote;
  return Object.entries(config.remotes).map(([name, r]) => ({ ...r, name, default: name === def }));
}

/** One setting by key: an effective one (tracker, remote, autopush, executor, queue, queue_prefix) or any key of mlpipe.yaml (`remotes.origin.url`). */
export function settingRow(config: ProjectConfig, key: string, runsDir: string): SettingRow {
  const known = SHOWN.find(([k]) => k === key);
  if (!known) return fileRow(config, key);
  const at = config.whence(known[1]);
  if (at.source === 'default') {
    const value = key === 'tracker' ? trackerPath(runsDir) : key === 'remote' ? null : (config[known[1]].value as string | boolean);
    return { key, value, source: 'default', origin: 'default' };
  }
  if (key === 'remote') {
    const target = config.remote.value!;
    return { key, value: target.name ? `${target.name} (${target.url})` : target.url, source: at.source, origin: at.origin };
  }
  const written = at.written as string | boolean;
  return { key, value: typeof written === 'string' && at.source !== 'file' ? redactPassword(written) : written, source: at.source, origin: at.origin };
}

function fileRow(config: ProjectConfig, key: string): SettingRow {
  try {
    configPath(key);
  } catch (err) {
    if (err instanceof UserError) {
      const keys = [...SHOWN.map(([k]) => k), 'default_remote', 'remotes.NAME.url'];
      throw new UserError(`unknown setting "${key}"`, { hint: didYouMean(key, keys) ?? `settings: ${keys.join(', ')}` });
    }
    throw err;
  }
  let value: unknown = config.file?.values;
  for (const segment of key.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  if (value === undefined) return { key, value: null, source: 'default', origin: 'default' };
  const shown = typeof value === 'object' ? JSON.stringify(value) : (value as string | boolean);
  return { key, value: shown, source: 'file', origin: config.originOf(key.split('.')) ?? CONFIG_FILE };
}

/** A URL with the password of its user-info part shown as ***. */
export function redactPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:?#]*:)[^/@?#]+@/i, '$1***@');
}
