import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { copyEntries } from '../../core/cache/copy-entries.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { outputsAvailable, restoreOutputs } from '../../core/cache/stage-outputs.js';
import type { OutputManifest } from '../../core/hash/path-manifest.js';
import { openLocalStore } from '../../core/store/local-store.js';
import type { ObjectStore } from '../../core/store/types.js';
import type { ModelVersion, Tracker } from '../../core/tracker/types.js';

/** Opens the remote cache in force, or gives undefined when none is configured (called only when files must be fetched). */
export type RemoteOpener = () => Promise<ObjectStore | undefined>;

/** Where a version's files come from when its folder is not on this machine: the run's cache entries, in the local cache or the remote. */
export interface ModelFetchSource {
  tracker: Pick<Tracker, 'getStageRuns'>;
  remote?: RemoteOpener;
}

/** A version registered elsewhere (a shared tracker) whose files are neither here nor fetchable. */
export class ModelFilesNotFetchedError extends UserError {
  constructor(model: ModelVersion, folder: string, why: string, hint: string) {
    super(`${model.name} v${model.version} is registered (run ${model.runId}) but its files are not on this machine (${folder} is missing): ${why}`, { hint });
    this.name = 'ModelFilesNotFetchedError';
  }
}

/** The runs folder's own folder for a version: where fetched files go. */
export const versionFolder = (runsDir: string, model: Pick<ModelVersion, 'name' | 'version'>): string => join(runsDir, 'models', model.name, String(model.version));

interface Found {
  key: string;
  output: OutputManifest;
}

/**
 * Makes a version's files present at `runs/models/NAME/VERSION` when they are not (a clone that
 * shares the tracker but not the runs folder): the cache entry of the registering run whose output
 * has the registered folder digest is found in the local cache, else copied from the remote (every
 * object verified against its digest on the way), and the output is restored from the local cache
 * (verified again). The caller then checks the folder digest as for any version. A version whose
 * folder exists is left alone. Returns whether files were fetched.
 */
export async function fetchModelFiles(runsDir: string, model: ModelVersion, source: ModelFetchSource): Promise<boolean> {
  const folder = versionFolder(runsDir, model);
  if (existsSync(folder)) return false;
  const local = openLocalStore(runsDir);
  const keys = [...new Set((await source.tracker.getStageRuns(model.runId)).flatMap((s) => (s.cacheKey ? [s.cacheKey] : [])))];
  let found = await findOutput(local, keys, model.artifactHash);
  if (!found || !(await outputsAvailable(local, { model: found.output }))) {
    const remote = await source.remote?.();
    if (!remote) {
      throw new ModelFilesNotFetchedError(
        model,
        folder,
        found ? `the local cache lacks some of its ${found.output.files.length} file(s) (${describeFiles(found.output)}) and no remote cache is configured to fetch them from` : 'no remote cache is configured to fetch them from',
        'configure the remote the team pushes to (mlpipe remote add origin s3://BUCKET/PREFIX or a shared folder, then mlpipe remote default origin; or set MLPIPE_REMOTE), or run on the machine that registered it: mlpipe push --run ' + model.runId,
      );
    }
    found = await findOutput(remote, keys, model.artifactHash);
    if (!found) {
      throw new ModelFilesNotFetchedError(
        model,
        folder,
        `no cache entry of run ${model.runId} in ${remote.location} holds files with the registered digest ${model.artifactHash.slice(0, 16)}… (the run was not pushed, gc --remote removed it, or the model was quantized at deploy, which is not cached)`,
        `on the machine that registered it: mlpipe push --run ${model.runId}`,
      );
    }
    const copied = await copyEntries(remote, local, [found.key]);
    const failed = copied.unavailable.find((u) => u.key === found!.key);
    if (failed) throw new ModelFilesNotFetchedError(model, folder, `fetching ${describeFiles(found.output)} from ${remote.location} failed: ${failed.reason}`, `push the run again from the machine that registered it: mlpipe push --run ${model.runId}`);
  }
  await restoreOutputs(local, { model: found.output }, { model: { path: folder, link: false } }, { verify: true });
  return true;
}

/** The first entry under `keys` in `store` with an output whose digest is `digest`. */
async function findOutput(store: ObjectStore, keys: readonly string[], digest: string): Promise<Found | undefined> {
  for (const key of keys) {
    const manifest = await readManifest(store, key);
    const output = Object.values(manifest?.outputs ?? {}).find((o) => o.digest === digest);
    if (output) return { key, output };
  }
  return undefined;
}

function describeFiles(output: OutputManifest): string {
  const names = output.files.map((f) => f.path || '(the file)');
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, … ${names.length - 6} more`;
}
