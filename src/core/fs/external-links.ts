import { realpath } from 'node:fs/promises';
import { relative, isAbsolute, sep } from 'node:path';
import { UserError } from '../../errors.js';

/** The environment variable that lets declared inputs be links to files outside the workspace. */
export const ALLOW_EXTERNAL_INPUTS = 'MLPIPE_ALLOW_EXTERNAL_INPUTS';

/** A declared input whose path is inside the workspace but that resolves, through a symlink, to a file outside it. */
export class ExternalInputError extends UserError {
  constructor(
    readonly input: string,
    readonly target: string,
    workspace: string,
  ) {
    super(`input ${input} is a symlink to ${target}, outside the workspace ${workspace}; mlpipe does not read files outside the workspace through links`, {
      hint: `copy the file into the workspace, or, if reading it is intended, set ${ALLOW_EXTERNAL_INPUTS}=1`,
    });
    this.name = 'ExternalInputError';
  }
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
};

/**
 * Refuses an input `abs` (declared as `input`) that resolves outside the workspace `dir` through a
 * symlink, unless {@link ALLOW_EXTERNAL_INPUTS} is set. A path that does not exist passes: hashing it
 * then says that it is missing.
 */
export async function refuseExternalInput(dir: string, abs: string, input: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env[ALLOW_EXTERNAL_INPUTS] === '1') return;
  const [root, target] = await Promise.all([realpath(dir).catch(() => dir), realpath(abs).catch(() => undefined)]);
  if (target !== undefined && !inside(root, target)) throw new ExternalInputError(input, target, root);
}
