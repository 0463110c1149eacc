import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { resolveRunRef } from '../../app/compare/resolve-run.js';
import type { ObjectStore } from '../../core/store/types.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import type { Tracker } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';

/** An artifact that is not there: unknown stage or output, or gone from the cache (answered with 404). */
export class ArtifactNotFoundError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint });
    this.name = 'ArtifactNotFoundError';
  }
}

/** A file of a run's output, copied out of the cache (verified against its digest) into a temp folder. */
export interface ArtifactFile {
  path: string;
  /** The name to offer the browser. */
  filename: string;
  size: number;
  /** Removes the temp copy. */
  cleanup(): Promise<void>;
}

/**
 * Brings one file of a stage's output out of the cache: the file itself for a file output, or the
 * member `file` (a path from the output's manifest) of a folder output.
 */
export async function fetchArtifact(tracker: Tracker, store: ObjectStore, ref: string, stage: string, name: string, file?: string): Promise<ArtifactFile> {
  const runId = await resolveRunRef(tracker, ref);
  const stageRun = (await tracker.getStageRuns(runId)).find((s) => s.stage === stage);
  const artifact = (await tracker.getArtifacts(runId)).find((a) => a.stage === stage && a.name === name);
  if (!stageRun || !artifact) throw new ArtifactNotFoundError(`run ${runId} has no output ${stage}/${name}`);
  const manifest = stageRun.cacheKey ? await readManifest(store, stageRun.cacheKey) : undefined;
  const output = manifest?.outputs[name];
  if (!output || output.digest !== artifact.hash) {
    throw new ArtifactNotFoundError(`the output ${stage}/${name} of run ${runId} is no longer in the cache`, 'mlpipe gc removed it, or the cache was cleared; re-run the pipeline to produce it again');
  }
  const member = output.type === 'file' ? output.files[0] : output.files.find((f) => f.path === file);
  if (!member) {
    throw new ArtifactNotFoundError(
      output.type === 'dir' ? `${stage}/${name} is a folder${file ? ` without the file "${file}"` : ''}; name one of its files with ?file=PATH` : `${stage}/${name} has no file`,
      output.type === 'dir' ? `files: ${output.files.slice(0, 10).map((f) => f.path).join(', ')}${output.files.length > 10 ? ', …' : ''}` : undefined,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-ui-artifact-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'file');
  try {
    await store.get(member.hash, path, { size: member.size, verify: true });
  } catch (err) {
    await cleanup();
    throw new ArtifactNotFoundError(`the output ${stage}/${name} of run ${runId} could not be read from the cache: ${(err as Error).message}`, 'run mlpipe cache verify');
  }
  const filename = output.type === 'file' ? basename(artifact.path) || name : basename(member.path);
  return { path, filename, size: member.size, cleanup };
}
