/**
 * A program a stage's command runs whose local imports key the stage (issue 15 item 13): a
 * JavaScript/TypeScript or Python file by its path as written (relative to the folder the command
 * runs in), or a Python module run with `python -m` (resolved against that folder).
 */
export type CodeEntry = { lang: 'js' | 'py'; path: string } | { lang: 'py'; module: string };

/** Discovered code files stand in a stage's input digests under this prefix (`code:lib/util.mjs`), as models do under `model:`. */
export const CODE_INPUT_PREFIX = 'code:';

/** The spec-relative paths of the discovered code files among a stage's keyed inputs. */
export function codeFilesOf(inputs: Record<string, string> | undefined): string[] {
  return Object.keys(inputs ?? {})
    .filter((k) => k.startsWith(CODE_INPUT_PREFIX))
    .map((k) => k.slice(CODE_INPUT_PREFIX.length));
}
