import { UserError } from '../../errors.js';
import type { RunRecord, Tracker } from '../../core/tracker/types.js';
import { resolveRunRef } from '../compare/resolve-run.js';

/** Tag keys: words a filter can read as `tags.KEY` (dots, dashes and slashes allowed). */
const TAG_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;
/** Tags mlpipe writes itself (`mlpipe.imported`, `mlpipe.user`): not set or removed by hand. */
const RESERVED_PREFIX = 'mlpipe.';
export const MAX_NAME = 256;
export const MAX_TAG_VALUE = 5000;
export const MAX_NOTE = 65_536;

/** A `--tag` / `runs tag` argument that is not `KEY=VALUE` with a usable key. */
export class InvalidTagError extends UserError {
  constructor(arg: string, reason: string) {
    super(`invalid tag "${arg}": ${reason}`, { hint: 'write KEY=VALUE, e.g. --tag owner=ana (a key holds letters, digits, "_", ".", "-" and "/")' });
    this.name = 'InvalidTagError';
  }
}

function checkTagKey(key: string, arg: string): void {
  if (!TAG_KEY.test(key)) throw new InvalidTagError(arg, key ? `the key "${key}" may hold only letters, digits, "_", ".", "-" and "/" (and starts with a letter, digit or "_")` : 'the key is missing');
  if (key.startsWith(RESERVED_PREFIX)) throw new InvalidTagError(arg, `keys starting with "${RESERVED_PREFIX}" are mlpipe's own`);
}

/** `KEY=VALUE` items (repeated keys: the last wins) as tags; the value may be empty and may hold "=". */
export function parseTags(args: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new InvalidTagError(arg, 'there is no "="');
    const key = arg.slice(0, eq).trim();
    checkTagKey(key, arg);
    const value = arg.slice(eq + 1);
    if (value.length > MAX_TAG_VALUE) throw new InvalidTagError(arg, `a value holds at most ${MAX_TAG_VALUE} characters, got ${value.length}`);
    tags[key] = value;
  }
  return tags;
}

/** A run name as `run --name` takes it: one line, trimmed, not empty. */
export function checkRunName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw new UserError('--name is empty', { hint: 'name the run, e.g. --name baseline' });
  if (/[\r\n]/.test(trimmed)) throw new UserError('--name must be one line', { hint: 'put longer text in a note: mlpipe runs note RUN "…"' });
  if (trimmed.length > MAX_NAME) throw new UserError(`--name holds at most ${MAX_NAME} characters, got ${trimmed.length}`, { hint: 'put longer text in a note: mlpipe runs note RUN "…"' });
  return trimmed;
}

/** What `runs tag`, `runs note`, `runs rename` leave on the run (the `--json` output). */
export interface RunMeta {
  schemaVersion: 1;
  id: string;
  name: string | null;
  tags: Record<string, string>;
  note: string | null;
}

const metaOf = (r: RunRecord): RunMeta => ({ schemaVersion: 1, id: r.id, name: r.name ?? null, tags: r.tags ?? {}, note: r.note ?? null });

/** Sets `set` and removes the `remove` keys (a key that is not there is fine); returns the run's tags after. */
export async function tagRun(tracker: Tracker, ref: string, set: Record<string, string>, remove: readonly string[] = []): Promise<RunMeta> {
  for (const key of remove) checkTagKey(key, key);
  const both = remove.find((k) => k in set);
  if (both !== undefined) throw new UserError(`tag "${both}" is both set and removed`, { hint: `set it (${both}=VALUE) or remove it (--remove ${both}), not both` });
  if (Object.keys(set).length === 0 && remove.length === 0) throw new UserError('nothing to tag', { hint: 'mlpipe runs tag RUN KEY=VALUE [KEY=VALUE…] [--remove KEY]' });
  const id = await resolveRunRef(tracker, ref);
  await tracker.setRunTags(id, { ...set, ...Object.fromEntries(remove.map((k) => [k, null])) });
  return metaOf((await tracker.getRun(id))!);
}

/** Sets the run's note (empty text clears it). */
export async function noteRun(tracker: Tracker, ref: string, text: string): Promise<RunMeta> {
  const note = text.trim() === '' ? null : text;
  if (note !== null && note.length > MAX_NOTE) throw new UserError(`a note holds at most ${MAX_NOTE} characters, got ${note.length}`, { hint: 'keep long write-ups in a file of the repository and link it from the note' });
  const id = await resolveRunRef(tracker, ref);
  await tracker.updateRun(id, { note });
  return metaOf((await tracker.getRun(id))!);
}

/** Names (or with an empty name, unnames) a run after the fact. */
export async function renameRun(tracker: Tracker, ref: string, name: string): Promise<RunMeta> {
  const id = await resolveRunRef(tracker, ref);
  await tracker.updateRun(id, { name: name.trim() === '' ? null : checkRunName(name) });
  return metaOf((await tracker.getRun(id))!);
}

/** What `runs delete` / `runs restore` did to each run asked for. */
export interface RunDeletion {
  schemaVersion: 1;
  /** Runs whose state changed. */
  changed: { id: string; pipeline: string; name: string | null }[];
  /** Runs already in the asked-for state. */
  unchanged: string[];
}

/**
 * Soft-deletes runs (`deleted`: true) or brings them back: a deleted run is left out of lists,
 * comparisons and reports unless asked for, and `mlpipe gc` frees what only deleted runs used.
 * Every reference is resolved before anything changes; a running run is not deleted.
 */
export async function setRunsDeleted(tracker: Tracker, refs: readonly string[], deleted: boolean, now = Date.now()): Promise<RunDeletion> {
  if (refs.length === 0) throw new UserError(`which runs? give run ids`, { hint: `mlpipe runs ${deleted ? 'delete' : 'restore'} RUN [RUN…] (list them with: mlpipe runs list${deleted ? '' : ' --deleted'})` });
  const runs: RunRecord[] = [];
  for (const ref of refs) {
    const run = (await tracker.getRun(await resolveRunRef(tracker, ref)))!;
    if (!runs.some((r) => r.id === run.id)) runs.push(run);
  }
  const running = runs.find((r) => r.status === 'running');
  if (deleted && running) throw new UserError(`run ${running.id} is still running; it can be deleted once it ends`, { hint: 'stop it first (Ctrl-C in its terminal), or wait for it' });
  const result: RunDeletion = { schemaVersion: 1, changed: [], unchanged: [] };
  for (const run of runs) {
    if ((run.deletedAt != null) === deleted) {
      result.unchanged.push(run.id);
      continue;
    }
    await tracker.updateRun(run.id, { deletedAt: deleted ? now : null });
    result.changed.push({ id: run.id, pipeline: run.pipeline, name: run.name ?? null });
  }
  return result;
}
