/**
 * The block of a `.gitignore` that mlpipe manages, between two marker lines naming what it is for:
 *
 * ```
 * # >>> mlpipe: pipelines/iris/pipeline.yaml (managed by mlpipe run: edits inside are replaced)
 * /runs/
 * /pipelines/iris/data/prepared.csv
 * !/pipelines/iris/pipeline.lock
 * # <<< mlpipe: pipelines/iris/pipeline.yaml
 * ```
 *
 * Lines outside the block are never changed; the block is replaced in place, or appended.
 */

/** The problem a `.gitignore` has with its managed block (a start marker with no end marker). */
export class GitignoreBlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitignoreBlockError';
  }
}

const START = '# >>> mlpipe: ';
const END = '# <<< mlpipe: ';
const NOTE = ' (managed by mlpipe run: edits inside are replaced)';

/** The patterns of one block: paths relative to the `.gitignore`'s folder (POSIX) to ignore, and to keep committable. */
export interface GitignoreEntries {
  /** Ignored paths; a trailing `/` matches folders only. */
  ignore: string[];
  /** Paths git must not ignore (lock file, config), written as `!/path` after the ignores. */
  keep: string[];
}

/** A path as an anchored gitignore pattern, its special characters escaped (`/a b[1].csv` → `/a b\[1\].csv`). */
export function gitignorePattern(path: string): string {
  const dir = path.endsWith('/');
  const body = (dir ? path.slice(0, -1) : path)
    .replace(/^\/+/, '')
    .replace(/[\\*?[\]!#]/g, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
  return `/${body}${dir ? '/' : ''}`;
}

/** The block's lines (markers included); sorted and deduplicated, so equal entries give equal bytes. */
export function renderGitignoreBlock(id: string, entries: GitignoreEntries): string[] {
  const sorted = (paths: string[]) => [...new Set(paths.map(gitignorePattern))].sort();
  return [`${START}${id}${NOTE}`, ...sorted(entries.ignore), ...sorted(entries.keep).map((p) => `!${p}`), `${END}${id}`];
}

const isStart = (line: string, id: string) => line === `${START}${id}` || line.startsWith(`${START}${id} (`);

/**
 * `text` (a whole `.gitignore`) with the block `id` set to `block` (its lines, from
 * {@link renderGitignoreBlock}), or removed when `block` is undefined. A second block of the same id is
 * dropped. Keeps the file's line endings. Throws {@link GitignoreBlockError} when a block has a start
 * marker and no end marker (nothing is guessed).
 */
export function replaceGitignoreBlock(text: string, id: string, block: string[] | undefined): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.length === 0 ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  let placed = false;
  for (let i = 0; i < lines.length; i++) {
    if (!isStart(lines[i]!, id)) {
      out.push(lines[i]!);
      continue;
    }
    const end = lines.indexOf(`${END}${id}`, i + 1);
    if (end < 0) throw new GitignoreBlockError(`line ${i + 1} starts mlpipe's block for ${id} but no line "${END}${id}" ends it`);
    if (!placed && block) out.push(...block);
    placed = true;
    i = end;
  }
  if (!placed && block) out.push(...block);
  return out.length === 0 ? '' : `${out.join(eol)}${eol}`;
}
