import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';

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

/** Writes all of `text` at the handle's position (a write may take only part of a buffer). */
export async function writeAll(handle: FileHandle, text: string | Uint8Array): Promise<void> {
  if (typeof text === 'string') {
    if (text) await handle.write(text);
    return;
  }
  for (let at = 0; at < text.length; ) at += (await handle.write(text, at)).bytesWritten;
}

/** A file written in pieces to a temp sibling: `commit` syncs it and renames it over the path, `abort` removes it. */
export interface AtomicWriter {
  write(text: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens an {@link AtomicWriter} for `path`: readers see the old file (or none) until `commit`. */
export async function openAtomicWriter(path: string): Promise<AtomicWriter> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    write: (text) => writeAll(handle, text),
    commit: async () => {
      try {
        await handle.sync();
        await close();
        await rename(tmp, path);
      } catch (err) {
        await close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw err;
      }
    },
    abort: async () => {
      await close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}
