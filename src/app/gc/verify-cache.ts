import { existsSync } from 'node:fs';
import { openLocalStore } from '../../core/store/local-store.js';
import type { MaintainableStore } from '../../core/store/types.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { forEachLimit } from '../../core/async/for-each-limit.js';
import { NoTrackerError, openExistingTracker } from '../../core/tracker/open-tracker.js';
import type { ModelLookup } from '../../core/tracker/types.js';
import { modelDir } from '../models/resolve-model.js';
import { modelDigest } from '../models/verify-model.js';

/** One problem `mlpipe cache verify` found and what it did about it. */
export interface CacheProblem {
  /**
   * `object`: bytes that do not hash to the digest; `manifest`: unreadable or malformed; `incomplete`: a
   * manifest naming objects that are not there; `model`: a registered version whose files are missing or
   * changed since registration (reported, not moved: serve and predict refuse it).
   */
  kind: 'object' | 'manifest' | 'incomplete' | 'model';
  /** The object digest, the manifest's cache key, or `NAME@VERSION`. */
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
export async function verifyCache(store: MaintainableStore, models?: RegisteredModels): Promise<CacheVerifyResult> {
  const result: CacheVerifyResult = { schemaVersion: 1, objects: 0, manifests: 0, models: 0, problems: [], ok: true };
  let warning = '';
  const digests: string[] = [];
  for await (const digest of store.list()) digests.push(digest);
  await forEachLimit(digests, PARALLEL, async (digest) => {
    const corrupt = await store.verify(digest);
    if (corrupt) result.problems.push({ kind: 'object', id: digest, detail: `expected ${corrupt.expected}, got ${corrupt.got}`, quarantinedTo: corrupt.quarantinedTo });
  });
  result.objects = digests.length;

  for await (const key of store.listManifests()) {
    result.manifests++;
    warning = '';
    const manifest = await readManifest(store, key, (message) => (warning = message));
    if (!manifest) {
      if (warning) result.problems.push({ kind: 'manifest', id: key, detail: warning, quarantinedTo: await store.quarantineManifest(key) });
      continue;
    }
    const missing: string[] = [];
    for (const output of Object.values(manifest.outputs)) {
      for (const file of output.files) if (!(await store.has(file.hash))) missing.push(file.hash);
    }
    if (missing.length > 0) {
      const detail = `stage ${manifest.stage} of run ${manifest.runId}: ${missing.length} object(s) missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`;
      result.problems.push({ kind: 'incomplete', id: key, detail, quarantinedTo: await store.quarantineManifest(key) });
    }
  }
  if (models) await verifyModels(models, result);
  result.problems.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
  result.ok = result.problems.length === 0;
  return result;
}

/** The registered versions of a runs folder's registry; `shared`: a tracker other runs folders use too, whose versions may live elsewhere. */
export interface RegisteredModels {
  runsDir: string;
  registry: ModelLookup;
  shared: boolean;
}

async function verifyModels({ runsDir, registry, shared }: RegisteredModels, result: CacheVerifyResult): Promise<void> {
  for (const model of await registry.listModels()) {
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
  const tracker = await openExistingTracker(runsDir).catch((err: unknown) => {
    if (err instanceof NoTrackerError) return undefined;
    throw err;
  });
  try {
    return await verifyCache(openLocalStore(runsDir), tracker && { runsDir, registry: tracker, shared: tracker.location.startsWith('postgresql:') });
  } finally {
    await tracker?.close();
  }
}
