import { rename, rm, writeFile } from 'node:fs/promises';

/** Writes `text` to a temp sibling, then renames it over `path`: readers never see half a file. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
