import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_FILE } from './config-schema.js';

/** The folders from `start` up to the filesystem root, nearest first. */
function* upFrom(start: string): Generator<string> {
  let dir = resolve(start);
  for (;;) {
    yield dir;
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The nearest `mlpipe.yaml` in `start` or a folder above it (up to the filesystem root), if any. */
export function findConfigFile(start: string = process.cwd()): string | undefined {
  for (const dir of upFrom(start)) {
    const file = join(dir, CONFIG_FILE);
    if (isFile(file)) return file;
  }
  return undefined;
}

/** The nearest folder at or above `start` holding `.git` (a folder, or a file in worktrees and submodules). */
export function findGitRoot(start: string = process.cwd()): string | undefined {
  for (const dir of upFrom(start)) if (existsSync(join(dir, '.git'))) return dir;
  return undefined;
}

/**
 * The project root of `start` (a folder; for a spec, its folder): the folder holding the nearest
 * mlpipe.yaml, else the git root, else `start` itself. Paths of a pipeline may reach anywhere
 * inside it, and a new mlpipe.yaml is created there.
 */
export function findProjectRoot(start: string = process.cwd()): string {
  const config = findConfigFile(start);
  if (config) return dirname(config);
  return findGitRoot(start) ?? resolve(start);
}
