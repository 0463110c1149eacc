import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The content hash of files: BLAKE3-256, lowercase hex, no prefix. */
export const FILE_HASH_ALGORITHM = 'blake3';

/** Bytes read per `read(2)` while hashing; each worker reuses one buffer of this size. */
export const HASH_BUFFER_BYTES = 1 << 20;

/** A file's hash with the `fstat` of the very descriptor that was hashed. */
export interface HashedFile {
  hash: string;
  size: number;
  mtimeNs: bigint;
  ino: bigint;
  /** Full `st_mode` (type and permission bits). */
  mode: number;
}

/** Reading a file for hashing failed; `code` is the system error code (`ENOENT`, `EISDIR`, `ENOTREG`…). */
export class FileHashError extends Error {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot hash ${path}: ${message}`, options);
    this.name = 'FileHashError';
  }
}

/** Hashes one file (streamed, never whole in memory). */
export async function hashFile(path: string): Promise<string> {
  const [file] = await hashFilesDetailed([path]);
  return file!.hash;
}

/** Hashes many files concurrently on a pool of worker threads; results in input order. */
export async function hashFiles(paths: string[]): Promise<string[]> {
  return (await hashFilesDetailed(paths)).map((file) => file.hash);
}

/** {@link hashFiles} that also returns each file's `fstat`, taken on the descriptor before reading. */
export async function hashFilesDetailed(paths: string[]): Promise<HashedFile[]> {
  if (paths.length === 0) return [];
  if (!workers && isSmallBatch(paths)) return hashInline(paths);
  const pool = getPool();
  const batch = Math.max(1, Math.min(256, Math.floor(paths.length / (pool.size * 4))));
  const parts: Promise<HashedFile[]>[] = [];
  for (let start = 0; start < paths.length; start += batch) parts.push(pool.run(paths.slice(start, start + batch)));
  return (await Promise.all(parts)).flat();
}

// One source for the hashing loop, run in the worker threads and, for a few small files, inline.
const HASH_BATCH_SOURCE = `
const fs = require('node:fs');
const { Blake3Hasher } = require(lib);
const buf = Buffer.allocUnsafe(bufferBytes);
const hasher = new Blake3Hasher();
const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0);
const NO_HASH = ' '.repeat(64);
function hashOne(path, stats, at) {
  const fd = fs.openSync(path, flags);
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const size = Number(st.size);
    let total = 0;
    hasher.reset();
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (n < buf.length && total >= size) break;
    }
    stats[at] = st.size; stats[at + 1] = st.mtimeNs; stats[at + 2] = st.ino; stats[at + 3] = st.mode;
    return hasher.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}
function hashBatch(paths) {
  const stats = new BigInt64Array(paths.length * 4);
  const errors = [];
  let hashes = '';
  for (let i = 0; i < paths.length; i++) {
    try { hashes += hashOne(paths[i], stats, i * 4); }
    catch (e) { hashes += NO_HASH; errors.push({ index: i, message: String(e && e.message), code: e && e.code }); }
  }
  return { hashes, stats, errors };
}
`;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { lib, bufferBytes } = workerData;
${HASH_BATCH_SOURCE}
parentPort.on('message', ({ id, paths }) => {
  const reply = hashBatch(paths);
  parentPort.postMessage({ id, ...reply }, [reply.stats.buffer]);
});
`;

let blakePath: string | undefined;

/**
 * What the hashing code requires for BLAKE3. @napi-rs/blake-hash's own loader tells glibc from musl
 * with `process.report.getReport()`, which took 13–250 ms of every no-op run here (it gathers a
 * whole diagnostic report); on Linux the platform package is required directly instead, /usr/bin/ldd
 * telling the C library (as napi-rs's newer loaders do). Anything else goes through the loader.
 */
function blakeBinding(): string {
  if (blakePath) return blakePath;
  const loader = createRequire(import.meta.url).resolve('@napi-rs/blake-hash');
  blakePath = loader;
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const libc = readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'gnu';
      blakePath = createRequire(loader).resolve(`@napi-rs/blake-hash-linux-${process.arch}-${libc}`);
    } catch {
      // no ldd to read, or the platform package sits where only the loader finds it
    }
  }
  return blakePath;
}

/** Below these, starting worker threads costs more than hashing on the main thread. */
const INLINE_MAX_FILES = 32;
const INLINE_MAX_BYTES = 8 << 20;

let inlineBatch: ((paths: string[]) => WorkerReply) | undefined;

function hashInline(paths: string[]): HashedFile[] {
  inlineBatch ??= new Function('require', 'lib', 'bufferBytes', `${HASH_BATCH_SOURCE}\nreturn hashBatch;`)(
    createRequire(import.meta.url),
    blakeBinding(),
    HASH_BUFFER_BYTES,
  ) as (paths: string[]) => WorkerReply;
  const reply = inlineBatch(paths);
  const [failed] = reply.errors;
  if (failed) throw new FileHashError(paths[failed.index]!, failed.code, failed.message);
  return unpack(reply);
}

function isSmallBatch(paths: string[]): boolean {
  if (paths.length > INLINE_MAX_FILES) return false;
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += statSync(p).size;
    } catch {
      return true;
    }
    if (bytes > INLINE_MAX_BYTES) return false;
  }
  return true;
}

interface WorkerReply {
  hashes: string;
  stats: BigInt64Array;
  errors: { index: number; message: string; code?: string }[];
}

interface Task {
  id: number;
  paths: string[];
  resolve: (files: HashedFile[]) => void;
  reject: (error: Error) => void;
}

// Chosen by measurement (2 cores, page cache): BLAKE3 hashes ~6 GB/s per core, SHA-256 ~1.7.
// Synchronous reads into one reused 1 MiB buffer in a worker per core reach ~8.5 GB/s over big
// files; async fs.read on the main thread (double-buffered) ~4.6, createReadStream ~4; 4 MiB
// buffers are slower (they overflow L2). Replies are packed so 10,000 small files clone cheaply.
class HashPool {
  readonly size = Math.max(1, Math.min(8, availableParallelism()));
  private readonly lib = blakeBinding();
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private readonly queue: Task[] = [];
  private spawned = 0;
  private nextId = 0;

  run(paths: string[]): Promise<HashedFile[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, paths, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.spawned < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const task = this.queue.shift()!;
      this.busy.set(worker, task);
      worker.ref();
      worker.postMessage({ id: task.id, paths: task.paths });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lib: this.lib, bufferBytes: HASH_BUFFER_BYTES } });
    this.spawned++;
    worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
    worker.on('error', (error) => this.retire(worker, error));
    worker.on('exit', (code) => this.retire(worker, new Error(`hash worker exited with code ${code}`)));
    return worker;
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const task = this.busy.get(worker);
    this.busy.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (task) {
      const [failed] = reply.errors;
      if (failed) task.reject(new FileHashError(task.paths[failed.index]!, failed.code, failed.message));
      else task.resolve(unpack(reply));
    }
    this.dispatch();
  }

  private retire(worker: Worker, cause: Error): void {
    const task = this.busy.get(worker);
    const wasKnown = task !== undefined || this.idle.includes(worker);
    if (!wasKnown) return;
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at !== -1) this.idle.splice(at, 1);
    this.spawned--;
    void worker.terminate();
    task?.reject(new FileHashError(task.paths[0]!, undefined, `the hash worker failed (${cause.message})`, { cause }));
    this.dispatch();
  }
}

function unpack({ hashes, stats }: WorkerReply): HashedFile[] {
  const files: HashedFile[] = new Array(stats.length / 4);
  for (let i = 0; i < files.length; i++) {
    files[i] = {
      hash: hashes.slice(i * 64, i * 64 + 64),
      size: Number(stats[i * 4]),
      mtimeNs: stats[i * 4 + 1]!,
      ino: stats[i * 4 + 2]!,
      mode: Number(stats[i * 4 + 3]),
    };
  }
  return files;
}

let workers: HashPool | undefined;

function getPool(): HashPool {
  workers ??= new HashPool();
  return workers;
}
