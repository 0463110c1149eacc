import { messageOf } from '../../errors.js';
import type { PipelineSpec } from '../spec/types.js';
import { updateGitignore, type GitignoreWrite } from '../workspace/update-gitignore.js';

/**
 * Updates the spec's managed `.gitignore` block after a run (state folder, shell outs); a file that
 * cannot be written, or whose block is broken, is a warning: the run's results stand.
 */
export async function writeRunGitignore(
  spec: PipelineSpec,
  opts: { runsDir: string; tracker: string; onWarning?: (message: string) => void },
): Promise<GitignoreWrite | undefined> {
  try {
    return await updateGitignore(spec, opts);
  } catch (err) {
    opts.onWarning?.(`the .gitignore of ${spec.root} was left unchanged: ${messageOf(err)}; fix or delete mlpipe's block there and the next run writes it`);
    return undefined;
  }
}
