import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { stringify } from 'yaml';
import { canonicalJson } from '../hash/canonical-json.js';
import { parseYamlFile } from '../../schema/yaml-source.js';
import { isPlainObject, validateField, type FieldIssue } from '../../schema/validate-fields.js';
import { formatPath } from '../../schema/yaml-source.js';
import { cacheKey, type KeyMaterial } from '../cache/key.js';
import { LOCK_SCHEMA_VERSION, lockFileField } from './lock-schema.js';
import { LockMemo } from './lock-memo.js';

export type { LockedDep, LockedOut, LockedStage, LockFile } from './lock-types.js';
import type { LockedStage, LockFile } from './lock-types.js';

/** `pipelines/iris/pipeline.yaml` → `pipelines/iris/pipeline.lock` (the spec's name with `.lock` for `.yaml`/`.yml`). */
export function lockPathOf(specFile: string): string {
  const ext = extname(specFile);
  const stem = ext === '.yaml' || ext === '.yml' ? basename(specFile, ext) : basename(specFile);
  return join(dirname(specFile), `${stem}.lock`);
}

/** The key material a locked stage was keyed on (what `explainKeyChange` diffs against). */
export function lockedMaterial(stage: LockedStage): KeyMaterial {
  return {
    kind: stage.kind,
    version: stage.version,
    config: stage.config,
    params: stage.params,
    inputs: Object.fromEntries(Object.entries(stage.deps).map(([path, dep]) => [path, dep.digest])),
    upstream: stage.upstream,
    outputs: Object.fromEntries(Object.entries(stage.outs).map(([name, out]) => [name, `${out.location}:${out.path}`])),
  };
}

const sortedRecord = <T>(record: Record<string, T>, map: (value: T) => unknown = (v) => v): Record<string, unknown> =>
  Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, map(record[k]!)]),
  );

/** A JSON value with object keys sorted recursively and `undefined` dropped (through canonical JSON). */
const canonical = (value: unknown): unknown => JSON.parse(canonicalJson(value));

const omitUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** One stage's fields in their fixed order, every map sorted by key. */
function orderedStage(s: LockedStage): Record<string, unknown> {
  return {
    kind: s.kind,
    version: s.version,
    key: s.key,
    params: canonical(s.params),
    deps: sortedRecord(s.deps, (d) => omitUndefined({ digest: d.digest, size: d.size, files: d.files })),
    upstream: sortedRecord(s.upstream),
    outs: sortedRecord(s.outs, (o) => omitUndefined({ location: o.location, path: o.path, digest: o.digest, size: o.size, files: o.files })),
    metrics: sortedRecord(s.metrics),
    config: canonical(s.config),
  };
}

/**
 * The lock file's text: a comment naming the spec, then YAML with fields in a fixed order, every map
 * (stages, deps, outs, params, metrics, config) sorted by key, no anchors and no line folding, so
 * equal content is equal bytes and `git diff` shows one line per changed value.
 */
export function encodeLock(lock: LockFile, specName: string): string {
  const body = {
    schemaVersion: lock.schemaVersion,
    pipeline: lock.pipeline,
    stages: sortedRecord(lock.stages, orderedStage),
  };
  const yaml = stringify(body, { aliasDuplicateObjects: false, lineWidth: 0, minContentWidth: 0, indent: 2, sortMapEntries: false });
  return `# mlpipe lock file of ${specName}: what produced its outputs. Written by \`mlpipe run\`; commit it with the spec, do not edit it.\n${yaml}`;
}

/** A lock file as read: its usable stages, and what was wrong (each problem drops the whole file or one stage). */
export interface DecodedLock {
  lock?: LockFile;
  problems: string[];
}

/**
 * Parses and checks a lock file's text: YAML, the schema (lock-schema.ts), the format version, and
 * each stage's key against its own contents (a hand-edited or half-merged entry is dropped with a
 * problem, never trusted).
 */
export function decodeLock(text: string, shown: string): DecodedLock {
  const parsed = parseYamlFile(shown, new TextEncoder().encode(text));
  const errors = parsed.reporter.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || parsed.value === undefined) {
    const first = errors[0];
    const where = first?.pos ? `${shown}:${first.pos.line}:${first.pos.col}` : shown;
    return { problems: [`${where} cannot be read (${first?.message ?? 'empty file'}); it is ignored, and the next \`mlpipe run\` rewrites it (a merge conflict? resolve it, or take either side and re-run)`] };
  }
  const value = parsed.value;
  if (isPlainObject(value) && typeof value.schemaVersion === 'number' && value.schemaVersion !== LOCK_SCHEMA_VERSION) {
    return { problems: [`${shown} has schemaVersion ${value.schemaVersion}; this mlpipe reads version ${LOCK_SCHEMA_VERSION}, so it is ignored (a newer mlpipe wrote it?)`] };
  }
  const issues: FieldIssue[] = [];
  validateField(value, lockFileField, issues);
  const at = (issue: FieldIssue) => {
    const pos = parsed.reporter.posOf(issue.path, issue.side);
    return `${shown}${pos ? `:${pos.line}:${pos.col}` : ''} ${formatPath(issue.path)}: ${issue.message}`;
  };
  const stageIssues = issues.filter((i) => i.path[0] === 'stages' && i.path.length > 2);
  const fileIssues = issues.filter((i) => !stageIssues.includes(i));
  if (fileIssues.length > 0) return { problems: fileIssues.map((i) => `${at(i)}; the lock file is ignored`) };
  const raw = value as unknown as LockFile;
  const problems: string[] = [];
  const stages: Record<string, LockedStage> = {};
  for (const [name, stage] of Object.entries(raw.stages)) {
    const own = stageIssues.filter((i) => i.path[1] === name);
    if (own.length > 0) {
      problems.push(...own.map((i) => `${at(i)}; the entry of stage ${name} is ignored`));
      continue;
    }
    if (cacheKey(lockedMaterial(stage)) !== stage.key) {
      const pos = parsed.reporter.posOf(['stages', name, 'key']);
      problems.push(`${shown}${pos ? `:${pos.line}:${pos.col}` : ''} stages.${name}.key does not match the entry's contents (edited by hand, or merged from two versions?); the entry is ignored until \`mlpipe run\` rewrites it`);
      continue;
    }
    stages[name] = stage;
  }
  return { lock: { schemaVersion: LOCK_SCHEMA_VERSION, pipeline: raw.pipeline, stages }, problems };
}

/** A lock file as read: decoded, its text, and the spec name that text is {@link encodeLock}'s output for (known only from a memo). */
export type ReadLock = DecodedLock & { text: string; encodedFor?: string };

/**
 * The lock file at `path` with its text, or undefined when there is none. With a `memo`, a text
 * decoded before is not parsed again, and one decoded now without problems is remembered.
 */
export async function readLockFile(path: string, shown = basename(path), memo?: LockMemo): Promise<ReadLock | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    return { text: '', problems: [`${shown} cannot be read (${(err as Error).message}); it is ignored`] };
  }
  const known = await memo?.get(text);
  if (known) return { lock: known.lock, problems: [], text, encodedFor: known.encodedFor };
  const decoded = decodeLock(text, shown);
  if (memo && decoded.lock && decoded.problems.length === 0) await memo.put(text, decoded.lock);
  return { ...decoded, text };
}

/** A spec's lock file as the planner reads it. */
export interface LockIndex {
  /** Its name for people (`pipeline.lock`). */
  file: string;
  /** The usable entry of a stage. */
  stage(name: string): LockedStage | undefined;
}

/**
 * The lock file beside `specFile`, or undefined when there is none. Problems (unreadable YAML, a
 * stage whose key does not match its contents) are warned about; what cannot be used is left out,
 * so those stages count as not locked. With `runsDir`, the decoded file is remembered there ({@link LockMemo}).
 */
export async function openLockIndex(specFile: string, onWarning?: (message: string) => void, runsDir?: string): Promise<LockIndex | undefined> {
  const path = lockPathOf(specFile);
  const read = await readLockFile(path, basename(path), runsDir === undefined ? undefined : LockMemo.of(runsDir, path));
  if (!read) return undefined;
  for (const problem of read.problems) onWarning?.(problem);
  const stages = read.lock?.stages ?? {};
  return { file: basename(path), stage: (name) => (Object.hasOwn(stages, name) ? stages[name] : undefined) };
}
