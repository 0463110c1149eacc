import { existsSync } from 'node:fs';
import { openLocalStore } from '../../core/store/local-store.js';
import type { MaintainableStore } from '../../core/store/types.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { forEachLimit } from '../../core/async/for-each-limit.js';
import { NoTrackerError, openExistingTracker } from '../../core/tracker/open-tracker.js';
import { TrackerUnavailableError } from '../../core/tracker/errors.js';
import type { Tracker } from '../../core/tracker/types.js';
import { modelDir } from '../models/resolve-model.js';
import { modelDigest } from '../models/verify-model.js';

/** One problem `mlpipe cache verify` found and what it did about it. */
export interface CacheProblem {
  /**
   * `object`: bytes that do not hash to the digest; `manifest`: unreadable or malformed; `incomplete`: a
   * manifest naming objects that are not there; `model`: a registered version whose files are missing or
   * changed since registration (reported, not moved: serve and predict refuse it); `tracker`: the tracker's
   * database is damaged; `unknown-run`: a manifest made by a run the tracker does not hold (its row
   * was lost, e.g. with the write-ahead log of a crashed machine): the entry still restores, but
   * nothing keeps it through gc.
   */
  kind: 'object' | 'manifest' | 'incomplete' | 'model' | 'tracker' | 'unknown-run';
  /** The object digest, the manifest's cache key (also for `unknown-run`: a manifest whose run the tracker does not hold), `NAME@VERSION`, or the tracker's location. */
  id: string;
  detail: string;
  /** Where it was moved (quarantine), when it was moved. */
  quarantinedTo?: string;
}

/** The `--json` output of `mlpipe cache verify` (schemaVersion 1). */
export interface CacheVerifyResult {
  schemaVersion: 1;
  objects: number;
  manifests: number;
  /** Registered model versions checked against their digests. */
  models: number;
  problems: CacheProblem[];
  /** True when nothing was wrong. */
  ok: boolean;
}

const PARALLEL = 8;

/**
 * Checks the whole cache store: every object is hashed and compared with its name, every manifest
 * parsed and checked for objects that are missing. Corrupt objects, bad manifests and manifests
 * that can no longer be restored are moved to `cache/quarantine/`, so the stages they belong to
 * run again instead of being restored. Safe while runs are going on: objects enter the store before
 * the manifests that name them.
 */
export async function verifyCache(store: MaintainableStore, records?: TrackerRecords): Promise<CacheVerifyResult> {
  const result: CacheVerifyResult = { schemaVersion: 1, objects: 0, manifests: 0, models: 0, problems: [], ok: true };
  let warning = '';
  const digests: string[] = [];
  for await (const digest of store.list()) digests.push(digest);
  await forEachLimit(digests, PARALLEL, async (digest) => {
    const corrupt = await store.verify(digest);
    if (corrupt) result.problems.push({ kind: 'object', id: digest, detail: `expected ${corrupt.expected}, got ${corrupt.got}`, quarantinedTo: corrupt.quarantinedTo });
  });
  result.objects = digests.length;

  const runOf = new Map<string, string>();
  for await (const key of store.listManifests()) {
    result.manifests++;
    warning = '';
    const manifest = await readManifest(store, key, (message) => (warning = message));
    if (!manifest) {
      if (warning) result.problems.push({ kind: 'manifest', id: key, detail: warning, quarantinedTo: await store.quarantineManifest(key) });
      continue;
    }
    runOf.set(key, manifest.runId);
    const missing: string[] = [];
    for (const output of Object.values(manifest.outputs)) {
      for (const file of output.files) if (!(await store.has(file.hash))) missing.push(file.hash);
    }
    if (missing.length > 0) {
      const detail = `stage ${manifest.stage} of run ${manifest.runId}: ${missing.length} object(s) missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`;
      result.problems.push({ kind: 'incomplete', id: key, detail, quarantinedTo: await store.quarantineManifest(key) });
    }
  }
  if (records) await verifyRecords(records, runOf, result);
  result.problems.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
  result.ok = result.problems.length === 0;
  return result;
}

/** The tracker of a runs folder; `shared`: one other runs folders use too (PostgreSQL), whose model versions may live elsewhere. */
export interface TrackerRecords {
  runsDir: string;
  tracker: Tracker;
  shared: boolean;
}

async function verifyRecords({ runsDir, tracker, shared }: TrackerRecords, runOf: Map<string, string>, result: CacheVerifyResult): Promise<void> {
  const damage = await tracker.checkIntegrity();
  if (damage.length > 0) {
    result.problems.push({ kind: 'tracker', id: tracker.location, detail: `${damage.slice(0, 5).join('; ')}${damage.length > 5 ? `; and ${damage.length - 5} more` : ''}` });
    return;
  }
  const known = new Map<string, boolean>();
  for (const [key, runId] of runOf) {
    if (!known.has(runId)) known.set(runId, (await tracker.getRun(runId)) !== undefined);
    if (!known.get(runId)) result.problems.push({ kind: 'unknown-run', id: key, detail: `made by run ${runId}, which the tracker does not hold (its record was lost); the entry still restores, but no kept run keeps it through gc` });
  }
  for (const model of await tracker.listModels()) {
    const id = `${model.name}@${model.version}`;
    let dir: string;
    try {
      dir = modelDir(runsDir, model);
    } catch (err) {
      if (!shared) result.problems.push({ kind: 'model', id, detail: (err as Error).message });
      continue;
    }
    result.models++;
    const got = await modelDigest(runsDir, dir).catch((err: unknown) => `unreadable (${(err as Error).message})`);
    if (got !== model.artifactHash) result.problems.push({ kind: 'model', id, detail: `files in ${dir} changed since registration (registered ${model.artifactHash.slice(0, 16)}…, now ${got.slice(0, 16)}…); serve and predict refuse it` });
  }
}

/** {@link verifyCache} of a runs folder's cache and registered models (nothing to check when the folder does not exist). */
export async function verifyCacheIn(runsDir: string): Promise<CacheVerifyResult> {
  if (!existsSync(runsDir)) return { schemaVersion: 1, objects: 0, manifests: 0, models: 0, problems: [], ok: true };
  let unopened: CacheProblem | undefined;
  const tracker = await openExistingTracker(runsDir, { checkAfterUncleanShutdown: false }).catch((err: unknown) => {
    if (err instanceof TrackerUnavailableError) throw err;
    if (!(err instanceof NoTrackerError)) unopened = { kind: 'tracker', id: (err as { location?: string }).location ?? runsDir, detail: (err as Error).message };
    return undefined;
  });
  try {
    const result = await verifyCache(openLocalStore(runsDir), tracker && { runsDir, tracker, shared: tracker.location.startsWith('postgresql:') });
    if (unopened) result.problems.unshift(unopened);
    result.ok = result.problems.length === 0;
    return result;
  } finally {
    await tracker?.close();
  }
}
