import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import type { Diagnostic, SourcePos } from '../../schema/diagnostic.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import { isPlainObject, validateField, type FieldIssue } from '../../schema/validate-fields.js';
import { parseYamlFile, type PathSegment, type Reporter, type YamlSource } from '../../schema/yaml-source.js';
import { ConfigError } from './config-error.js';
import { configField, type ConfigFileValues } from './config-schema.js';
import { ENV_REF_RE, hasEnvRef, isSecretKey, secretKeyProblem, urlSecretProblem } from './secrets.js';

/** A validated mlpipe.yaml. */
export interface ConfigFile {
  /** Absolute path of the file. */
  file: string;
  /** Its folder: relative paths in it resolve against this. */
  dir: string;
  /** The file as the user sees it in messages (relative to the current folder when inside it). */
  shown: string;
  values: ConfigFileValues;
  /** `mlpipe.yaml:3:10` for the value at `path`. */
  origin(path: readonly PathSegment[]): string;
}

/** How a file path is shown in messages: relative to `cwd` when that is shorter. */
export function shownPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !isAbsolute(rel) && rel.length < file.length ? rel : file;
}

/**
 * Reads and validates one mlpipe.yaml: YAML syntax, the schema (config-schema.ts), secrets refused,
 * URLs and remote names checked. Throws ConfigError with every problem, each at file:line:col.
 */
export function readConfigFile(file: string, cwd = process.cwd()): ConfigFile {
  const shown = shownPath(file, cwd);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ConfigError([{ severity: 'error', path: '', file: shown, message: `cannot read the project configuration: ${(err as Error).message}` }]);
  }
  const { values, source } = validate(shown, bytes);
  return {
    file,
    dir: dirname(file),
    shown,
    values,
    origin: (path) => {
      const pos = source.posOf(path, 'value');
      return pos ? `${shown}:${pos.line}:${pos.col}` : shown;
    },
  };
}

/** The values of a configuration text, or ConfigError with its problems (what `config set` checks before writing). */
export function validateConfigText(shown: string, bytes: Uint8Array): ConfigFileValues {
  return validate(shown, bytes).values;
}

function validate(shown: string, bytes: Uint8Array): { values: ConfigFileValues; source: YamlSource } {
  const parsed = parseYamlFile(shown, bytes);
  const reporter = parsed.reporter;
  const fail = (): never => {
    throw new ConfigError(sortByPosition(reporter.diagnostics.filter((d) => d.severity === 'error')));
  };
  if (reporter.errorCount > 0 || !parsed.source) fail();
  const raw = parsed.value ?? {};
  if (!isPlainObject(raw)) {
    reporter.error([], `expected a mapping of settings (tracker, remotes, default_remote, …), got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`, {
      hint: 'see README.md, "Project configuration (mlpipe.yaml)"',
    });
    fail();
  }
  const value = withoutSecrets(raw as Record<string, unknown>, [], reporter);
  const issues: FieldIssue[] = [];
  validateField(value, configField, issues);
  for (const issue of issues) reporter.error(issue.path, issue.message, { side: issue.side, ...(issue.hint ? { hint: issue.hint } : {}) });
  if (reporter.errorCount === 0) checkValues(value as ConfigFileValues, reporter);
  if (reporter.errorCount > 0) fail();
  return { values: value as ConfigFileValues, source: parsed.source! };
}

/** A copy of `value` without secret keys, each reported where it is written. */
function withoutSecrets(value: Record<string, unknown>, path: PathSegment[], reporter: Reporter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key)) {
      const problem = secretKeyProblem(key);
      reporter.error([...path, key], problem.message, { side: 'key', hint: problem.hint });
      continue;
    }
    out[key] = isPlainObject(item) ? withoutSecrets(item, [...path, key], reporter) : item;
  }
  return out;
}

function checkValues(v: ConfigFileValues, reporter: Reporter): void {
  const names = Object.keys(v.remotes ?? {});
  if (v.default_remote !== undefined && !names.includes(v.default_remote)) {
    reporter.error(['default_remote'], names.length === 0 ? `names the remote "${v.default_remote}", but no remotes are configured` : `names the remote "${v.default_remote}", which is not under remotes (${names.join(', ')})`, {
      hint: didYouMean(v.default_remote, names) ?? `add it: mlpipe remote add ${v.default_remote} URL`,
    });
  }
  if (v.tracker !== undefined) checkUrl(['tracker'], v.tracker, reporter, trackerProblem);
  if (v.queue !== undefined) checkUrl(['queue'], v.queue, reporter, queueProblem);
  for (const [name, remote] of Object.entries(v.remotes ?? {})) {
    const at = ['remotes', name];
    const refAt = (k: string, s: string | undefined) => s !== undefined && hasEnvRef(s) && reporter.error([...at, k], '${env.NAME} is read in tracker and queue URLs only', { hint: 'write the value itself; S3 credentials come from the AWS chain (environment or profile)' });
    refAt('url', remote.url);
    refAt('endpoint', remote.endpoint);
    checkUrl([...at, 'url'], remote.url, reporter, remoteUrlProblem);
    if (remote.endpoint !== undefined) checkUrl([...at, 'endpoint'], remote.endpoint, reporter, endpointProblem);
  }
}

type UrlCheck = (value: string) => { message: string; hint?: string } | undefined;

function checkUrl(path: PathSegment[], value: string, reporter: Reporter, check: UrlCheck): void {
  const problem = urlSecretProblem(value) ?? check(value);
  if (problem) reporter.error(path, problem.message, problem.hint ? { hint: problem.hint } : {});
}

const schemeOf = (s: string) => /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();

function parsesAsUrl(s: string): boolean {
  try {
    new URL(s.replace(ENV_REF_RE, 'x'));
    return true;
  } catch {
    return false;
  }
}

const trackerProblem: UrlCheck = (value) => {
  const scheme = schemeOf(value);
  if (scheme === 'postgresql' || scheme === 'postgres') {
    return parsesAsUrl(value) && new URL(value.replace(ENV_REF_RE, 'x')).hostname ? undefined : { message: `expected a PostgreSQL URL such as postgresql://USER@HOST:5432/DB, got "${value}"` };
  }
  if (scheme === undefined || scheme.length === 1 || scheme === 'sqlite' || scheme === 'file') {
    return hasEnvRef(value) ? { message: '${env.NAME} is read in URLs only, not in a file path' } : undefined;
  }
  return { message: `expected an SQLite file or postgresql://…, got the scheme "${scheme}:"`, hint: 'give postgresql://USER@HOST:5432/DB, or a file path relative to mlpipe.yaml such as runs/tracker.db' };
};

const queueProblem: UrlCheck = (value) =>
  /^rediss?:\/\//i.test(value) && parsesAsUrl(value) ? undefined : { message: `expected a Redis URL such as redis://127.0.0.1:6379, got "${value}"` };

/** What a remote URL names: s3://BUCKET[/PREFIX], file://PATH, or a folder path. */
export function remoteUrlProblem(value: string): { message: string; hint?: string } | undefined {
  const scheme = schemeOf(value);
  const hint = 'give s3://BUCKET/PREFIX, a folder (relative to mlpipe.yaml, or absolute) or file:///PATH';
  if (value.trim() === '') return { message: 'expected a remote URL, got an empty string', hint };
  if (scheme === 's3') return /^s3:\/\/[^/\s]+/i.test(value) ? undefined : { message: `expected s3://BUCKET/PREFIX, got "${value}" (no bucket)`, hint };
  if (scheme === 'file') return value.startsWith('file://') ? undefined : { message: `expected file:///PATH, got "${value}"`, hint };
  if (scheme === undefined || scheme.length === 1) return undefined;
  return { message: `expected a remote on S3 (s3://) or a folder, got the scheme "${scheme}:"`, hint };
}

const endpointProblem: UrlCheck = (value) =>
  /^https?:\/\//i.test(value) && parsesAsUrl(value) ? undefined : { message: `expected an http:// or https:// endpoint, got "${value}"`, hint: 'e.g. endpoint: http://127.0.0.1:9000 for a local MinIO' };

function sortByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (p?: SourcePos) => (p ? p.line * 1e6 + p.col : 0);
  return [...diagnostics].sort((a, b) => key(a.pos) - key(b.pos));
}
