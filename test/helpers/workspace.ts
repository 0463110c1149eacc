import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A temporary folder with some files, for tests. */
export interface Workspace {
  /** Absolute path of the folder. */
  dir: string;
  /** Absolute path of `rel` inside the folder. */
  path(rel: string): string;
  /** Removes the folder and everything in it. */
  cleanup(): Promise<void>;
}

/** Creates a temporary folder holding `files` (relative path → content; parent folders are created). */
export async function makeWorkspace(files: Record<string, string | Uint8Array> = {}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-test-'));
  const path = (rel: string): string => join(dir, rel);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(path(rel)), { recursive: true });
    await writeFile(path(rel), content);
  }
  return { dir, path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
