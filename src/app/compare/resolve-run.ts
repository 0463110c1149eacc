import { UserError } from '../../errors.js';
import type { RunRecord, Tracker } from '../../core/tracker/types.js';
import { parseModelRef } from '../models/model-ref.js';
import { resolveModel } from '../models/resolve-model.js';

const MIN_SHORT = 8;
const MAX_CANDIDATES = 10;

/** A run reference that matches no run. */
export class UnknownRunError extends UserError {
  constructor(readonly ref: string, recent: RunRecord[]) {
    const list = recent.length ? `; recent runs: ${recent.map(describe).join(', ')}` : '; the tracker has no runs yet';
    super(`no run matches "${ref}"${list}`, { hint: 'list runs with: mlpipe runs list' });
    this.name = 'UnknownRunError';
  }
}

/** A run id prefix that matches more than one run. */
export class AmbiguousRunError extends UserError {
  constructor(readonly ref: string, readonly candidates: RunRecord[], total: number) {
    const more = total > candidates.length ? `, and ${total - candidates.length} more` : '';
    super(`"${ref}" matches ${total} runs: ${candidates.map(describe).join(', ')}${more}`, { hint: 'give more characters of the run id' });
    this.name = 'AmbiguousRunError';
  }
}

function describe(r: RunRecord): string {
  return `${r.id} (${r.pipeline}, ${new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ')})`;
}

/**
 * The run id a user means: a full id, an unambiguous prefix (with or without the `r-`), or
 * `MODEL@ALIAS` / `MODEL@VERSION` for the run that produced that registered model version.
 * Throws {@link UnknownRunError} or {@link AmbiguousRunError} (both exit 2).
 */
export async function resolveRunRef(tracker: Tracker, ref: string): Promise<string> {
  if (ref.lastIndexOf('@') > 0) return (await resolveModel(tracker, parseModelRef(ref))).runId;
  if (await tracker.getRun(ref)) return ref;
  let ids = ref ? await tracker.findRunIds(ref) : [];
  if (ids.length === 0 && ref && !ref.startsWith('r-')) ids = await tracker.findRunIds(`r-${ref}`);
  if (ids.length === 1) return ids[0];
  if (ids.length === 0) throw new UnknownRunError(ref, await tracker.listRuns({ limit: 5 }));
  const candidates = await Promise.all(ids.slice(0, MAX_CANDIDATES).map(async (id) => (await tracker.getRun(id))!));
  throw new AmbiguousRunError(ref, candidates, ids.length);
}

/**
 * Short ids for display: the shortest prefix (at least 8 characters) that tells each id apart
 * from every other id in `all`.
 */
export function shortIds(ids: readonly string[], all: readonly string[] = ids): Map<string, string> {
  const sorted = [...new Set([...all, ...ids])].sort();
  const index = new Map(sorted.map((id, i) => [id, i]));
  const common = (a: string, b: string | undefined) => {
    if (b === undefined) return 0;
    let n = 0;
    while (n < a.length && a[n] === b[n]) n++;
    return n;
  };
  const out = new Map<string, string>();
  for (const id of ids) {
    const i = index.get(id)!;
    const need = Math.max(common(id, sorted[i - 1]), common(id, sorted[i + 1])) + 1;
    out.set(id, id.slice(0, Math.max(MIN_SHORT, need)));
  }
  return out;
}
