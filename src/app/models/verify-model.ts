import { hashPath } from '../../core/hash/hash-path.js';
import { StatCache } from '../../core/hash/stat-cache.js';
import type { ModelVersion } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';
import { ExitCode } from '../../exit-codes.js';

/** A registered version whose files no longer hash to the digest recorded when it was registered. */
export class ModelTamperedError extends UserError {
  constructor(
    readonly model: ModelVersion,
    readonly dir: string,
    readonly got: string,
  ) {
    super(
      `${model.name} v${model.version} in ${dir} does not match its registered digest (registered ${model.artifactHash.slice(0, 16)}…, its files now ${got.slice(0, 16)}…): they changed after registration; refusing to load it`,
      {
        exitCode: ExitCode.StageFailed,
        hint: `restore the folder, or re-run the pipeline that registered it (run ${model.runId}): its deploy stage exports the files again; mlpipe cache verify checks every registered version`,
      },
    );
    this.name = 'ModelTamperedError';
  }
}

/**
 * The digest of a version's folder now (the same folder digest the deploy stage registered). File
 * hashes are memoized by stat (size, mtime in ns, inode) in the runs folder's stat cache, so a server
 * reloading a version does not read unchanged files again.
 */
export async function modelDigest(runsDir: string, dir: string): Promise<string> {
  return (await hashPath(dir, await StatCache.open(runsDir))).digest;
}

/** Throws {@link ModelTamperedError} unless the files in `dir` are those registered as `model`. */
export async function verifyModelFiles(runsDir: string, model: ModelVersion, dir: string): Promise<void> {
  const got = await modelDigest(runsDir, dir);
  if (got !== model.artifactHash) throw new ModelTamperedError(model, dir, got);
}
