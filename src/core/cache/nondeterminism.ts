import type { OutputManifest } from '../hash/path-manifest.js';
import type { NondeterministicOutputs } from '../tracker/types.js';

/** At most this many differing files are recorded for one stage execution (a folder output may hold thousands). */
export const MAX_RECORDED_FILES = 100;
const SHOWN_FILES = 5;

/**
 * The files whose content differs between two executions' outputs under one cache key: an output
 * that is a file by its name, a file inside a folder output as `NAME/path`; added and removed files
 * count. Sorted; at most {@link MAX_RECORDED_FILES}.
 */
export function differingFiles(before: Record<string, OutputManifest>, after: Record<string, OutputManifest>): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[name];
    const b = after[name];
    if (a && b && a.digest === b.digest && a.type === b.type) continue;
    const hashes = (m: OutputManifest | undefined) => new Map((m?.files ?? []).map((f) => [f.path, f.hash]));
    const [ha, hb] = [hashes(a), hashes(b)];
    const found = out.length;
    for (const path of [...new Set([...ha.keys(), ...hb.keys()])].sort()) {
      if (ha.get(path) !== hb.get(path)) out.push(path === '' ? name : `${name}/${path}`);
    }
    if (out.length === found) out.push(name); // same files, other modes or a file turned folder
  }
  return out.slice(0, MAX_RECORDED_FILES);
}

/** The one warning a nondeterministic stage execution gets. */
export function describeNondeterminism(stage: string, n: NondeterministicOutputs): string {
  const shown = n.files.slice(0, SHOWN_FILES).join(', ');
  const more = n.files.length > SHOWN_FILES ? ` and ${n.files.length - SHOWN_FILES} more` : '';
  return `stage ${stage} is nondeterministic: it ran again with an identical cache key and wrote different ${n.files.length === 1 ? 'content to' : 'files:'} ${shown}${more} (the entry of run ${n.previousRunId} had other content); the cache entry now holds this run's outputs`;
}
