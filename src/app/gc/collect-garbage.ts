import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openLocalStore } from '../../core/store/local-store.js';
import type { MaintainableStore } from '../../core/store/types.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { openTracker } from '../../core/tracker/open-tracker.js';
import { isProcessAlive } from '../../core/os/process-alive.js';
import { pruneLockMemos, type LockMemoPrune } from '../../core/lock/lock-memo.js';
import { pruneRunMemos, type RunMemoPrune } from '../../core/run/run-memo.js';
import type { RunRecord, Tracker } from '../../core/tracker/types.js';

/** What gc works on: the tracker (which runs are kept) and the store; `hasRunFolder` tells whether `runs/<id>/` exists. */
export interface GcTarget {
  tracker: Tracker;
  store: MaintainableStore;
  hasRunFolder(runId: string): boolean;
}

/**
 * How far before the cutoff moment gc stays away: file systems stamp mtimes with a coarse clock,
 * so something stored right at the cutoff may carry a slightly older mtime.
 */
export const GC_SLACK_MS = 2_000;

/** Options for {@link collectGarbage}. */
export interface GcOptions {
  /** Only report what would be removed. */
  dry?: boolean;
  /** The clock (epoch ms); tests pass their own. */
  now?: number;
  /**
   * Keep every entry made by a run this tracker does not know (the manifest names its run): a
   * remote holds teammates' entries, which a local tracker never saw. Set for `gc --remote`.
   */
  keepEntriesOfUnknownRuns?: boolean;
}

/** What `mlpipe gc` kept and removed (the `--json` output, schemaVersion 1). */
export interface GcResult {
  schemaVersion: 1;
  dry: boolean;
  /** Nothing stored or used at or after this moment (ISO time) is removed. */
  cutoff: string;
  /** `deleted`: runs deleted with `runs delete`, which keep nothing. */
  runs: { total: number; kept: number; running: number; withFolder: number; withModel: number; deleted: number };
  /** `unknownRun`: kept because the run that made them is not in this tracker (gc --remote only). */
  manifests: { kept: number; removed: number; young: number; unknownRun?: number };
  objects: { kept: number; removed: number; young: number; bytesRemoved: number };
  /** Temp files left by killed processes, removed (0 with --dry). */
  staleTemps: number;
  /** Decoded lock files remembered in cache/lock-memo/: removed when their lock file is gone or holds another text now (local cache only). */
  lockMemos?: LockMemoPrune;
  /** No-op memos of `mlpipe run PIPELINE` in cache/run-memo/: removed when what they describe has changed (local cache only). */
  runMemos?: RunMemoPrune;
  /** The running run whose start set the cutoff (the oldest one), when one did: nothing used since it started is removed. */
  pinnedBy?: GcPin;
}

/** A running run that holds gc's cutoff back. */
export interface GcPin {
  runId: string;
  pipeline: string;
  pid: number;
  host: string;
  /** ISO times. */
  startedAt: string;
  heartbeatAt: string | null;
}

/**
 * Removes the cache entries that no kept run needs:
 *
 * - a run is **kept** while it is running, while its folder `runs/<id>/` exists, or when a
 *   registered model version came from it, unless it was deleted (`runs delete`); deleting its
 *   folder also lets a run go (its tracker records stay);
 * - a manifest is kept when a kept run executed or restored that cache key; an object is kept when
 *   a manifest that stays names it;
 * - nothing whose mtime is at or after the **cutoff** is removed: the start of the oldest running
 *   run or of gc itself, whichever is earlier, less {@link GC_SLACK_MS}. Every object a run stores
 *   or restores (verified) gets a fresh mtime, and a removal renames the file aside and checks its
 *   mtime again there, so gc never deletes what a concurrent run is committing or has just used.
 *   A concurrent run can at worst find an entry it planned to restore gone, and then runs the stage.
 */
export async function collectGarbage(target: GcTarget, opts: GcOptions = {}): Promise<GcResult> {
  const started = opts.now ?? Date.now();
  const dry = opts.dry === true;
  const { tracker, store } = target;
  if (!dry) await tracker.markDeadRunsInterrupted();
  const { kept, counts, cutoff, pinnedBy, ids } = await keptRuns(target, started);
  const keys = new Set<string>();
  for (const runId of kept) for (const s of await tracker.getStageRuns(runId)) if (s.cacheKey) keys.add(s.cacheKey);

  const manifests: GcResult['manifests'] = { kept: 0, removed: 0, young: 0, ...(opts.keepEntriesOfUnknownRuns ? { unknownRun: 0 } : {}) };
  const remaining: string[] = [];
  const isUnknownRun = opts.keepEntriesOfUnknownRuns ? await unknownRunOf(target, ids) : undefined;
  for await (const key of store.listManifests()) {
    if (keys.has(key)) {
      manifests.kept++;
      remaining.push(key);
    } else if (isUnknownRun && (await isUnknownRun(key))) {
      manifests.kept++;
      manifests.unknownRun!++;
      remaining.push(key);
    } else if (!(await removable(() => store.manifestMtime(key), () => store.removeManifestIfOlderThan(key, cutoff), cutoff, dry))) {
      manifests.young++;
      remaining.push(key);
    } else manifests.removed++;
  }

  const referenced = new Set<string>();
  for (const key of remaining) {
    const manifest = await readManifest(store, key);
    for (const output of Object.values(manifest?.outputs ?? {})) for (const file of output.files) referenced.add(file.hash);
  }

  const objects = { kept: 0, removed: 0, young: 0, bytesRemoved: 0 };
  for await (const digest of store.list()) {
    if (referenced.has(digest)) {
      objects.kept++;
      continue;
    }
    const size = dry ? await dryObjectSize(store, digest, cutoff) : await store.removeIfOlderThan(digest, cutoff);
    if (size === undefined) objects.young++;
    else {
      objects.removed++;
      objects.bytesRemoved += size;
    }
  }
  const staleTemps = dry ? 0 : await store.removeStaleTemps(isProcessAlive);
  return { schemaVersion: 1, dry, cutoff: new Date(cutoff).toISOString(), runs: { ...counts, kept: kept.size }, manifests, objects, staleTemps, ...(pinnedBy ? { pinnedBy } : {}) };
}

/** {@link collectGarbage} over the tracker and cache of a runs folder (nothing to do when it does not exist). */
export async function collectGarbageIn(runsDir: string, opts: GcOptions = {}): Promise<GcResult> {
  if (!existsSync(runsDir)) return emptyResult(opts.dry === true, (opts.now ?? Date.now()) - GC_SLACK_MS);
  const tracker = await openTracker(runsDir);
  try {
    const result = await collectGarbage({ tracker, store: openLocalStore(runsDir), hasRunFolder: (id) => existsSync(join(runsDir, id)) }, opts);
    const prune = { cutoff: Date.parse(result.cutoff), dry: result.dry };
    return { ...result, lockMemos: await pruneLockMemos(runsDir, prune), runMemos: pruneRunMemos(runsDir, prune) };
  } finally {
    await tracker.close();
  }
}

async function keptRuns({ tracker, hasRunFolder }: GcTarget, now: number) {
  const all = await tracker.listRuns({ deleted: 'include' });
  const running = all.filter((r) => r.status === 'running');
  // A deleted run (`runs delete`) is let go like one whose folder is gone: its folder and model do not keep it.
  const runs = all.filter((r) => r.deletedAt == null);
  const live = new Set(runs.map((r) => r.id));
  const withFolder = runs.filter((r) => hasRunFolder(r.id));
  const withModel = new Set((await tracker.listModels()).map((m) => m.runId).filter((id) => live.has(id)));
  const kept = new Set([...running, ...withFolder].map((r) => r.id).concat([...withModel]));
  const cutoff = Math.min(now, ...running.map((r) => r.startedAt)) - GC_SLACK_MS;
  const oldest = running.reduce<RunRecord | undefined>((a, r) => (a && a.startedAt <= r.startedAt ? a : r), undefined);
  const pinnedBy = oldest && oldest.startedAt < now ? pinOf(oldest) : undefined;
  const counts = { total: all.length, running: running.length, withFolder: withFolder.length, withModel: withModel.size, deleted: all.length - runs.length };
  return { kept, cutoff, pinnedBy, ids: new Set(all.map((r) => r.id)), counts };
}

function pinOf(r: RunRecord): GcPin {
  const iso = (t: number) => new Date(t).toISOString();
  return { runId: r.id, pipeline: r.pipeline, pid: r.pid, host: r.host, startedAt: iso(r.startedAt), heartbeatAt: r.heartbeatAt ? iso(r.heartbeatAt) : null };
}

/** Whether the entry under a key was made by a run `known` does not hold (an unreadable manifest counts as known: it is garbage). */
async function unknownRunOf({ store }: GcTarget, known: Set<string>): Promise<(key: string) => Promise<boolean>> {
  return async (key) => {
    const manifest = await readManifest(store, key);
    return manifest !== undefined && !known.has(manifest.runId);
  };
}

/**
 * `mlpipe gc --remote`: {@link collectGarbage} on a remote cache with this tracker's runs. A run of
 * another host is kept (its folder cannot be seen from here), and so is every entry made by a run
 * the tracker does not know: with a local tracker gc removes only what this machine's runs let go.
 */
export async function collectRemoteGarbage(runsDir: string, remote: MaintainableStore, opts: Omit<GcOptions, 'keepEntriesOfUnknownRuns'> = {}): Promise<GcResult> {
  const tracker = await openTracker(runsDir);
  try {
    const here = hostname();
    const elsewhere = new Set((await tracker.listRuns()).filter((r) => r.host && r.host !== here).map((r) => r.id));
    const hasRunFolder = (id: string) => elsewhere.has(id) || existsSync(join(runsDir, id));
    return await collectGarbage({ tracker, store: remote, hasRunFolder }, { ...opts, keepEntriesOfUnknownRuns: true });
  } finally {
    await tracker.close();
  }
}

async function removable(mtime: () => Promise<number | undefined>, remove: () => Promise<boolean>, cutoff: number, dry: boolean): Promise<boolean> {
  if (!dry) return remove();
  const at = await mtime();
  return at !== undefined && at < cutoff;
}

async function dryObjectSize(store: MaintainableStore, digest: string, cutoff: number): Promise<number | undefined> {
  const stat = await store.stat(digest);
  return stat && stat.mtimeMs < cutoff ? stat.size : undefined;
}

function emptyResult(dry: boolean, cutoff: number): GcResult {
  return {
    schemaVersion: 1,
    dry,
    cutoff: new Date(cutoff).toISOString(),
    runs: { total: 0, kept: 0, running: 0, withFolder: 0, withModel: 0, deleted: 0 },
    manifests: { kept: 0, removed: 0, young: 0 },
    objects: { kept: 0, removed: 0, young: 0, bytesRemoved: 0 },
    staleTemps: 0,
  };
}
