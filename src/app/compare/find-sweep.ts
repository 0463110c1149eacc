import { UserError } from '../../errors.js';
import type { RunRecord, Tracker } from '../../core/tracker/types.js';

const MAX_LISTED = 5;

/** A recorded sweep: its id, pipeline, how many runs it has and when it started. */
export interface SweepInfo {
  id: string;
  pipeline: string;
  runs: number;
  startedAt: number;
}

/** A sweep reference that matches no sweep. */
export class UnknownSweepError extends UserError {
  constructor(readonly ref: string, recent: SweepInfo[]) {
    const list = recent.length ? `; recent sweeps: ${recent.map(describe).join(', ')}` : '; the tracker has no sweeps yet';
    super(`no sweep matches "${ref}"${list}`, { hint: 'start one with: mlpipe run pipeline.yaml --sweep params.lr=0.001,0.01,0.1' });
    this.name = 'UnknownSweepError';
  }
}

/** A sweep id prefix that matches more than one sweep. */
export class AmbiguousSweepError extends UserError {
  constructor(readonly ref: string, readonly candidates: SweepInfo[]) {
    super(`"${ref}" matches ${candidates.length} sweeps: ${candidates.map(describe).join(', ')}`, { hint: 'give more characters of the sweep id' });
    this.name = 'AmbiguousSweepError';
  }
}

function describe(s: SweepInfo): string {
  return `${s.id} (${s.pipeline}, ${s.runs} run${s.runs === 1 ? '' : 's'}, ${new Date(s.startedAt).toISOString().slice(0, 16).replace('T', ' ')})`;
}

/** Every sweep in the tracker (of `pipeline`, when given), newest first. */
export async function listSweeps(tracker: Tracker, pipeline?: string): Promise<SweepInfo[]> {
  const byId = new Map<string, SweepInfo>();
  for (const r of await tracker.listRuns(pipeline === undefined ? {} : { pipeline })) {
    if (!r.sweepId) continue;
    const seen = byId.get(r.sweepId);
    if (seen) {
      seen.runs++;
      seen.startedAt = Math.min(seen.startedAt, r.startedAt);
    } else byId.set(r.sweepId, { id: r.sweepId, pipeline: r.pipeline, runs: 1, startedAt: r.startedAt });
  }
  return [...byId.values()].sort((a, b) => b.startedAt - a.startedAt);
}

/**
 * The sweep id a user means: a full id or an unambiguous prefix, with or without the `s-`.
 * Throws {@link UnknownSweepError} or {@link AmbiguousSweepError} (both exit 2).
 */
export async function resolveSweepRef(tracker: Tracker, ref: string): Promise<string> {
  if (ref && (await tracker.listRuns({ sweepId: ref, limit: 1 })).length) return ref;
  const all = await listSweeps(tracker);
  let matches = ref ? all.filter((s) => s.id.startsWith(ref)) : [];
  if (matches.length === 0 && ref && !ref.startsWith('s-')) matches = all.filter((s) => s.id.startsWith(`s-${ref}`));
  if (matches.length === 1) return matches[0].id;
  if (matches.length === 0) throw new UnknownSweepError(ref, all.slice(0, MAX_LISTED));
  throw new AmbiguousSweepError(ref, matches);
}

/** The newest sweep (of `pipeline`, when given); a UserError (exit 2) when there is none. */
export async function lastSweepId(tracker: Tracker, pipeline?: string): Promise<string> {
  const newest = (await listSweeps(tracker, pipeline))[0];
  if (newest) return newest.id;
  throw new UserError(`no sweeps${pipeline === undefined ? '' : ` of pipeline "${pipeline}"`} are recorded`, {
    hint: 'start one with: mlpipe run pipeline.yaml --sweep params.lr=0.001,0.01,0.1',
  });
}

/** The runs of a sweep, oldest first (the order its points started in). */
export async function sweepRuns(tracker: Tracker, sweepId: string): Promise<RunRecord[]> {
  return (await tracker.listRuns({ sweepId })).reverse();
}
