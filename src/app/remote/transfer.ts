import { join } from 'node:path';
import { copyEntries, type CopyOptions, type CopyResult } from '../../core/cache/copy-entries.js';
import { isCacheable } from '../../core/cache/lookup.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { restoreOutputs } from '../../core/cache/stage-outputs.js';
import { planPipeline, workspaceLockPath } from '../../core/run/run-pipeline.js';
import type { PipelineSpec } from '../../core/spec/types.js';
import { openLocalStore } from '../../core/store/local-store.js';
import type { CacheLinkType, ObjectStore } from '../../core/store/types.js';
import { openLockIndex } from '../../core/lock/lock-file.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { lockForCheckout } from '../checkout/checkout-run.js';
import { resolveRunRef } from '../compare/resolve-run.js';

/** What to push or pull: a pipeline's current outputs (its plan's cache keys), one run's stages, or every entry. */
export type TransferSelection = { spec: PipelineSpec } | { run: string } | { all: true };

/** One stage of the selection and what happened to its entry. */
export interface TransferStage {
  stage: string;
  key?: string;
  /** `copied`: sent / fetched now; `present`: the target had it; `not-cached`: the source has no entry for its current inputs; `unavailable`: its entry could not be copied. */
  status: 'copied' | 'present' | 'not-cached' | 'unavailable';
  /** `lock`: a pull fetched the entry the spec's lock file names, as its current inputs have none (their outs are not written). */
  source?: 'lock';
  reason?: string;
}

/** What `mlpipe push` / `pull` print with `--json` (schemaVersion 1). */
export interface TransferResult {
  schemaVersion: 1;
  direction: 'push' | 'pull';
  remote: string;
  pipeline?: string;
  runId?: string;
  entries: { copied: number; present: number; unavailable: number };
  objects: { copied: number; present: number };
  /** Bytes of the objects copied. */
  bytes: number;
  /** Per stage for a pipeline or a run; empty for `--all`. */
  stages: TransferStage[];
  /** `pull PIPELINE`: the shell stages' outs written into the workspace. */
  checkedOut: { stage: string; output: string; path: string }[];
}

export interface TransferOptions extends CopyOptions {
  runsDir: string;
  remote: ObjectStore;
  selection: TransferSelection;
  onWarning?: (message: string) => void;
  /** `pull PIPELINE`: how its workspace outs are placed (mlpipe.yaml `cache.type`); default reflink, else copy. */
  cacheTypes?: readonly CacheLinkType[];
}

/** `mlpipe push`: copies the selected entries from the local cache to the remote (objects first, manifests last). */
export async function pushEntries(opts: TransferOptions): Promise<TransferResult> {
  const local = openLocalStore(opts.runsDir);
  const chosen = await selectEntries(opts, 'push');
  const copied = await copyEntries(local, opts.remote, chosen.keys, opts);
  return summarize('push', opts.remote, chosen, copied, []);
}

/**
 * `mlpipe pull`: copies the selected entries from the remote into the local cache (every object
 * verified), then, for a pipeline, writes its shell stages' outs into the workspace: the next
 * `mlpipe run` restores every pulled stage instead of running it.
 */
export async function pullEntries(opts: TransferOptions): Promise<TransferResult> {
  const local = openLocalStore(opts.runsDir);
  const chosen = await selectEntries(opts, 'pull');
  const copied = await copyEntries(opts.remote, local, chosen.keys, opts);
  const checkedOut = 'spec' in opts.selection ? await checkOutWorkspaceOuts(opts.runsDir, opts.selection.spec, chosen, copied, opts.cacheTypes) : [];
  return summarize('pull', opts.remote, chosen, copied, checkedOut);
}

interface Chosen {
  keys: string[];
  pipeline?: string;
  runId?: string;
  /** Stage → its key (undefined: not cached), for pipeline and run selections; `source: 'lock'` when the key is the lock file's, not the current inputs'. */
  stages: { stage: string; key?: string; reason?: string; source?: 'lock' }[];
}

async function selectEntries(opts: TransferOptions, direction: 'push' | 'pull'): Promise<Chosen> {
  const { selection } = opts;
  if ('all' in selection) {
    const keys: string[] = [];
    for await (const key of (direction === 'push' ? openLocalStore(opts.runsDir) : opts.remote).listManifests()) keys.push(key);
    return { keys, stages: [] };
  }
  if ('run' in selection) {
    const tracker = await openExistingTracker(opts.runsDir);
    try {
      const runId = await resolveRunRef(tracker, selection.run);
      const run = await tracker.getRun(runId);
      const stages = (await tracker.getStageRuns(runId)).map((s) =>
        s.status === 'completed' && s.cacheKey ? { stage: s.stage, key: s.cacheKey } : { stage: s.stage, reason: `it did not complete in run ${runId} (${s.status})` },
      );
      return { keys: stages.flatMap((s) => (s.key ? [s.key] : [])), runId, pipeline: run?.pipeline, stages };
    } finally {
      await tracker.close();
    }
  }
  const plan = await planPipeline(selection.spec, opts.runsDir, { onWarning: opts.onWarning, remote: direction === 'pull' ? opts.remote : undefined });
  const stages = plan.stages.map((p) =>
    p.action === 'restore' && p.key
      ? { stage: p.name, key: p.key }
      : { stage: p.name, reason: p.reasons.some((r) => r.kind === 'cache-disabled') ? 'it is never cached (it always runs)' : p.action === 'pending' ? `a stage it needs (${(p.after ?? []).join(', ')}) has no entry` : `no entry for its current inputs in ${direction === 'push' ? 'the local cache' : 'the remote or the local cache'} (mlpipe run ${selection.spec.file})` },
  );
  const chosen = direction === 'pull' ? await withLockedKeys(selection.spec, stages, opts.onWarning) : stages;
  return { keys: chosen.flatMap((s) => (s.key ? [s.key] : [])), pipeline: selection.spec.name, stages: chosen };
}

/**
 * `pull PIPELINE` fetches what the lock file names (DVC's `dvc pull` of `dvc.lock`): a stage whose
 * current inputs have no entry, but whose lock entry has a key, gets that entry into the local cache.
 * Its outs are not written over the workspace's (they are of other inputs); `mlpipe status` explains the difference.
 */
async function withLockedKeys(spec: PipelineSpec, stages: Chosen['stages'], onWarning?: (message: string) => void): Promise<Chosen['stages']> {
  const lock = await openLockIndex(spec.file, onWarning);
  if (!lock) return stages;
  return stages.map((s) => {
    const locked = s.key ? undefined : lock.stage(s.stage);
    if (!locked || !isCacheable(spec.stages[s.stage]!)) return s;
    return { stage: s.stage, key: locked.key, source: 'lock' as const, reason: `the entry ${lock.file} names; its inputs here differ from the lock, so its outs were not written (mlpipe status ${spec.file})` };
  });
}

/** Writes the workspace outs (shell stages) of the pulled pipeline's cached stages, verified, under the workspace lock. */
async function checkOutWorkspaceOuts(runsDir: string, spec: PipelineSpec, chosen: Chosen, copied: CopyResult, cacheTypes?: readonly CacheLinkType[]) {
  const local = openLocalStore(runsDir);
  const usable = new Set([...copied.copied, ...copied.present]);
  const written: TransferResult['checkedOut'] = [];
  const unlock = await lockForCheckout(await workspaceLockPath(runsDir, spec.dir), 'pull', spec.name);
  try {
    for (const { stage, key, source } of chosen.stages) {
      if (!key || source === 'lock' || !usable.has(key)) continue;
      const manifest = await readManifest(local, key);
      const declared = Object.entries(spec.stages[stage]!.impl.outputs(spec.stages[stage]!.config)).filter(([name, o]) => o.location === 'workspace' && manifest?.outputs[name]);
      if (!manifest || declared.length === 0) continue;
      const targets = Object.fromEntries(declared.map(([name, o]) => [name, { path: join(spec.dir, o.path), link: false, ...(cacheTypes && !o.persist ? { types: cacheTypes } : {}) }]));
      await restoreOutputs(local, Object.fromEntries(declared.map(([name]) => [name, manifest.outputs[name]!])), targets, { verify: true });
      for (const [name, o] of declared) written.push({ stage, output: name, path: o.path });
    }
  } finally {
    await unlock();
  }
  return written;
}

function summarize(direction: 'push' | 'pull', remote: ObjectStore, chosen: Chosen, copied: CopyResult, checkedOut: TransferResult['checkedOut']): TransferResult {
  const copiedKeys = new Set(copied.copied);
  const presentKeys = new Set(copied.present);
  const unavailable = new Map(copied.unavailable.map((u) => [u.key, u.reason]));
  const absent = new Set(copied.absent);
  const source = direction === 'push' ? 'the local cache' : remote.location;
  const stages = chosen.stages.map((s): TransferStage => {
    if (!s.key) return { stage: s.stage, status: 'not-cached', reason: s.reason };
    const locked = s.source ? { source: s.source, reason: s.reason } : {};
    if (copiedKeys.has(s.key)) return { stage: s.stage, key: s.key, status: 'copied', ...locked };
    if (presentKeys.has(s.key)) return { stage: s.stage, key: s.key, status: 'present', ...locked };
    if (absent.has(s.key)) return { stage: s.stage, key: s.key, status: 'not-cached', reason: s.source ? `${source} has no entry under the key the lock file names (never pushed, or gc removed it)` : `${source} has no entry under its key (a cache: false stage, or one gc removed)` };
    return { stage: s.stage, key: s.key, status: 'unavailable', reason: unavailable.get(s.key) };
  });
  return {
    schemaVersion: 1,
    direction,
    remote: remote.location,
    ...(chosen.pipeline ? { pipeline: chosen.pipeline } : {}),
    ...(chosen.runId ? { runId: chosen.runId } : {}),
    entries: { copied: copied.copied.length, present: copied.present.length, unavailable: copied.unavailable.length },
    objects: copied.objects,
    bytes: copied.bytes,
    stages,
    checkedOut,
  };
}
