import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CONFIG_FILE } from '../config/config-schema.js';
import { findGitRoot } from '../config/find-config.js';
import { writeAtomic } from '../fs/write-atomic.js';
import { lockPathOf } from '../lock/lock-file.js';
import type { PipelineSpec } from '../spec/types.js';
import { acquireLock } from '../workspace-lock.js';
import { renderGitignoreBlock, replaceGitignoreBlock, type GitignoreEntries } from './gitignore-block.js';

/** What {@link updateGitignore} did. */
export interface GitignoreWrite {
  /** Absolute path of the `.gitignore`. */
  path: string;
  /** Whether its bytes changed (an unchanged block is not rewritten). */
  changed: boolean;
}

/** `path` relative to `root` in POSIX form, or undefined when it is `root` itself or outside it. */
function inside(root: string, path: string): string | undefined {
  const rel = relative(root, resolve(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location);

/**
 * What a spec's block holds, relative to its project root: the state folder (cache, stat cache, run
 * folders, an SQLite tracker), an SQLite tracker file kept elsewhere in the project (and its WAL
 * files), and the outs of its shell stages; the lock file and mlpipe.yaml stay committable.
 */
export function gitignoreEntries(spec: Pick<PipelineSpec, 'file' | 'dir' | 'root' | 'stages'>, opts: { runsDir: string; tracker?: string }): GitignoreEntries {
  const ignore: string[] = [];
  const runs = inside(spec.root, opts.runsDir);
  if (runs) ignore.push(`${runs}/`);
  if (opts.tracker && !isUrl(opts.tracker) && inside(resolve(opts.runsDir), opts.tracker) === undefined) {
    const db = inside(spec.root, opts.tracker);
    if (db) ignore.push(db, `${db}-wal`, `${db}-shm`);
  }
  for (const stage of Object.values(spec.stages)) {
    for (const out of Object.values(stage.impl.outputs(stage.config))) {
      if (out.location !== 'workspace' || isAbsolute(out.path)) continue;
      const rel = inside(spec.root, join(spec.dir, out.path));
      if (rel) ignore.push(rel);
    }
  }
  const keep = [inside(spec.root, lockPathOf(spec.file))];
  if (existsSync(join(spec.root, CONFIG_FILE))) keep.push(CONFIG_FILE);
  return { ignore, keep: keep.filter((p): p is string => p !== undefined) };
}

/**
 * Writes the spec's managed block into the `.gitignore` of its project root (see
 * {@link renderGitignoreBlock}), when the root is in a git work tree or already has a `.gitignore`;
 * lines outside the block are left as they are, and an unchanged file is not rewritten. Returns
 * undefined when there is no git and no `.gitignore`, or nothing to ignore and no block to remove.
 */
export async function updateGitignore(spec: Pick<PipelineSpec, 'file' | 'dir' | 'root' | 'stages'>, opts: { runsDir: string; tracker?: string }): Promise<GitignoreWrite | undefined> {
  const path = join(spec.root, '.gitignore');
  if (!existsSync(path) && !findGitRoot(spec.root)) return undefined;
  const id = inside(spec.root, spec.file) ?? spec.file;
  const entries = gitignoreEntries(spec, opts);
  const block = entries.ignore.length > 0 ? renderGitignoreBlock(id, entries) : undefined;
  const lockName = `${createHash('sha256').update(resolve(path)).digest('hex').slice(0, 16)}.gitignore.lock`;
  const unlock = await acquireLock(join(opts.runsDir, 'locks', lockName), 'writing .gitignore');
  try {
    const current = existsSync(path) ? await readFile(path, 'utf8') : '';
    const text = replaceGitignoreBlock(current, id, block);
    if (text === current) return existsSync(path) ? { path, changed: false } : undefined;
    await writeAtomic(path, text);
    return { path, changed: true };
  } finally {
    await unlock();
  }
}
