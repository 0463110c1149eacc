import { UserError } from '../../errors.js';
import type { FileHasher } from '../hash/stat-cache.js';
import { CacheCorruptError, MissingObjectError } from '../store/errors.js';
import type { ObjectStore } from '../store/types.js';
import type { NondeterministicOutputs } from '../tracker/types.js';
import type { CacheIndex, LastExecution } from './lookup.js';
import { decodeManifest, digestsOf, encodeManifest, type ManifestProvenance, type StageManifest } from './manifest.js';
import { commitOutputs, outputsAvailable, restoreOutputs, type OutputSource, type OutputTarget } from './stage-outputs.js';
import { differingFiles, describeNondeterminism } from './nondeterminism.js';

/** Options for {@link StageCache}. */
export interface StageCacheOptions {
  /** Each stage's last completed execution in the pipeline (from the tracker); none when not given. */
  history?: (stage: string) => Promise<LastExecution | undefined>;
  /** Told about entries that cannot be used: an unreadable or malformed manifest, a corrupt or missing object. */
  onWarning?: (message: string) => void;
  /** Written into every manifest {@link StageCache.save} stores. */
  provenance?: ManifestProvenance;
  /** The stat cache: restores leave outputs that already match alone and verify unchanged objects from it. */
  hasher?: FileHasher;
}

/** What a stage execution leaves for {@link StageCache.save}. */
export interface SaveRequest {
  key: string;
  stage: string;
  kind: string;
  runId: string;
  metrics: Record<string, number>;
  /** Each output's files: moved into the store (a run's temp folder) or copied (workspace `outs`). */
  outputs: Record<string, OutputSource>;
  /** Hashes copied outputs (the stat cache, so unchanged `outs` are not read twice). */
  hasher: FileHasher;
  /** Whether the entry is published under its key; false for stages that are never restored. */
  publish: boolean;
  /** Outputs to recreate from the store once committed (a stage's outputs in its run folder). */
  place?: Record<string, OutputTarget>;
}

/** What {@link StageCache.save} stored, and how it differed from the entry it replaced. */
export interface SavedEntry {
  manifest: StageManifest;
  nondeterministic?: NondeterministicOutputs;
}

/**
 * The run cache (DESIGN.md section 4; DVC's `stage/cache.py`): entries are a {@link StageManifest}
 * under the stage's cache key, naming objects by digest in an {@link ObjectStore}. It finds usable
 * entries, restores them (every object verified; a corrupt or missing one is a miss, never used),
 * and saves new ones (objects first, the manifest last, so a half-saved entry is never seen).
 */
export class StageCache implements CacheIndex {
  constructor(
    readonly store: ObjectStore,
    private readonly options: StageCacheOptions = {},
  ) {}

  /** The decoded manifest under `key`; an unreadable or malformed one is a warning and undefined. */
  async manifest(key: string): Promise<StageManifest | undefined> {
    return readManifest(this.store, key, this.options.onWarning);
  }

  async entry(key: string): Promise<StageManifest | undefined> {
    const manifest = await this.manifest(key);
    return manifest && (await outputsAvailable(this.store, manifest.outputs)) ? manifest : undefined;
  }

  async lastExecution(stage: string): Promise<LastExecution | undefined> {
    return this.options.history?.(stage);
  }

  /**
   * Recreates an entry's outputs at their targets, every object's hash checked first. Returns false
   * (after a warning) when an object is corrupt (it is quarantined) or missing: the stage must run.
   */
  async restore(manifest: StageManifest, targets: Record<string, OutputTarget>, label = manifest.stage): Promise<boolean> {
    try {
      await restoreOutputs(this.store, manifest.outputs, targets, { verify: true, hasher: this.options.hasher });
      await this.store.adopt?.(manifest.key, digestsOf(manifest));
      return true;
    } catch (err) {
      if (!(err instanceof CacheCorruptError || err instanceof MissingObjectError)) throw err;
      this.options.onWarning?.(`${label}: ${err.message}`);
      return false;
    }
  }

  /** Warns that `stage` is nondeterministic (once per execution: {@link save} does for a local one, the run for a queue worker's). */
  warnNondeterministic(stage: string, nondeterministic: NondeterministicOutputs): void {
    this.options.onWarning?.(describeNondeterminism(stage, nondeterministic));
  }

  /**
   * Stores a finished stage's outputs and, when `publish`, the manifest under its key (last). When
   * the key already had an entry (a `--force` re-run, a worker that ran what another had stored) and
   * this execution's files differ from it, the stage is nondeterministic: that is warned about once
   * and returned. The newest execution wins: the entry is replaced by this one's outputs, which are
   * also what the workspace and the run folder now hold, so a later restore gives the same files.
   */
  async save(req: SaveRequest): Promise<SavedEntry> {
    const previous = req.publish ? await this.manifest(req.key) : undefined;
    const outputs = await commitOutputs(this.store, req.hasher, req.outputs);
    const manifest: StageManifest = {
      schemaVersion: 1,
      key: req.key,
      stage: req.stage,
      kind: req.kind,
      runId: req.runId,
      createdAt: Date.now(),
      outputs,
      metrics: req.metrics,
      ...(this.options.provenance ? { provenance: this.options.provenance } : {}),
    };
    const place = Object.entries(req.place ?? {});
    if (place.length > 0) {
      await restoreOutputs(
        this.store,
        Object.fromEntries(place.map(([name]) => [name, outputs[name]!])),
        Object.fromEntries(place),
      );
    }
    if (req.publish) await this.store.putManifest(req.key, encodeManifest(manifest));
    const files = previous ? differingFiles(previous.outputs, outputs) : [];
    if (files.length === 0) return { manifest };
    const nondeterministic: NondeterministicOutputs = { previousRunId: previous!.runId, files };
    this.warnNondeterministic(req.stage, nondeterministic);
    return { manifest, nondeterministic };
  }
}

/** Reads and decodes the manifest under `key` from any store; problems are warned about and give undefined, except a remote the user must fix (a UserError: it does not answer, no credentials), which is thrown. */
export async function readManifest(store: ObjectStore, key: string, onWarning?: (message: string) => void): Promise<StageManifest | undefined> {
  const where = `manifest ${key} in ${store.location}`;
  let text: string | undefined;
  try {
    text = await store.getManifest(key);
  } catch (error) {
    if (error instanceof UserError) throw error;
    onWarning?.(`Cache ${where} cannot be read (${(error as Error).message}); treating it as a cache miss.`);
    return undefined;
  }
  if (text === undefined) return undefined;
  const decoded = decodeManifest(text, key);
  if (!decoded.ok) {
    onWarning?.(`Cache ${where} ${decoded.problem}; treating it as a cache miss.`);
    return undefined;
  }
  return decoded.manifest;
}
