import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The no-op memo of `mlpipe run PIPELINE` (no other arguments): written by a full run in which every
 * stage was restored and nothing else changed, it holds what that run saw (the stat of every file it
 * read or checked, the environment, the tracker's state) and what it did (its tracker rows, its
 * progress events). While all of it is as it was, the next such run is that same no-op again, and
 * the launcher (bin/mlpipe.cjs, cli/fast-run.ts) performs it from the memo without loading the CLI.
 * Anything else (a changed stat, a run still marked running, a killed run's leftovers) takes the
 * full path, which writes a new memo. `mlpipe gc` removes memos that can no longer be served.
 */
export interface RunMemo {
  version: typeof MEMO_VERSION;
  /** The build that wrote it (scripts/bundle.mjs); another build never serves it. */
  build: string;
  node: string;
  host: string;
  cwd: string;
  runsDir: string;
  /** The spec's folder (its git commit is checked again). */
  specDir: string;
  /** The command's one argument, as given. */
  spec: string;
  /** The whole environment but the shell's own bookkeeping ({@link VOLATILE_ENV}). */
  env: Record<string, string>;
  writtenAt: number;
  /** Absolute path → {@link fileSignature} (null: must not exist). */
  files: Record<string, string | null>;
  /** Folders that must be empty or absent (a killed run's leftovers there are the full path's to clear). */
  empty: string[];
  /** The workspace lock file: empty or absent (a holder left in it died: the full path recovers). */
  workspaceLock: string;
  tracker: string;
  userVersion: number;
  /** Runs the stages were restored from: still recorded here, not deleted, not imported. */
  origins: string[];
  runId: string;
  /** Folders the run created under its run folder, relative to it. */
  runDirs: string[];
  /** The run's tracker rows by table, in insertion order. */
  rows: Record<string, Record<string, unknown>[]>;
  /** The run's progress events but `run-finished`, as JSON. */
  events: unknown[];
  /** The stages' summaries (for the summary line). */
  stages: unknown[];
}

export const MEMO_VERSION = 2;

/** Entries that change between two invocations of the same command in one shell. */
const VOLATILE_ENV = new Set(['_', 'OLDPWD', 'SHLVL']);

/** mtimes younger than this at writing are not trusted (as the stat cache's RACY_WINDOW_MS). */
export const MEMO_RACY_MS = 2_000;

declare const __MLPIPE_BUILD__: string | undefined;

/** The build id scripts/bundle.mjs stamps into the bundles; undefined when running unbundled (no memo then). */
export function buildId(): string | undefined {
  return typeof __MLPIPE_BUILD__ === 'string' ? __MLPIPE_BUILD__ : undefined;
}

/** `--runs-dir` is a flag, so only MLPIPE_RUNS_DIR, else ./runs (as resolveRunsDir). */
export function memoRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MLPIPE_RUNS_DIR ?? 'runs');
}

/** Where the memo of `run SPEC` started in `cwd` lives (no crypto module: the launcher must start fast). */
export function memoPath(runsDir: string, cwd: string, spec: string): string {
  return join(runsDir, 'cache', 'run-memo', `${fnv1a(`${cwd}\0${spec}`, 0x811c9dc5)}${fnv1a(`${spec}\0${cwd}`, 0x050c5d1f)}.json`);
}

function fnv1a(text: string, seed: number): string {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function memoEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of Object.keys(env).sort()) if (!VOLATILE_ENV.has(key) && env[key] !== undefined) kept[key] = env[key]!;
  return kept;
}

/** What a file's stat says about its contents: type, size, mtime, ctime, inode, mode; null when absent. */
export function fileSignature(path: string): string | null {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!s) return null;
  return `${s.isFile() ? 'f' : s.isDirectory() ? 'd' : 'o'}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}:${s.mode}`;
}

/**
 * Whether a signature's mtime is old enough at `now` to be trusted: a file rewritten within the clock
 * tick of the stat could keep its mtime (as the stat cache's racy window); one written later cannot.
 */
export function settled(signature: string | null, now: number): boolean {
  if (signature === null) return true;
  const mtimeNs = signature.split(':')[2]!;
  return Number(BigInt(mtimeNs) / 1_000_000n) < now - MEMO_RACY_MS;
}

/** The config files (mlpipe.yaml) and repository markers (.git) looked for from `dirs` upwards, as checked files. */
export function lookupPaths(dirs: string[]): string[] {
  const paths = new Set<string>();
  for (const start of dirs) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      paths.add(join(dir, 'mlpipe.yaml'));
      paths.add(join(dir, '.git'));
      if (dirname(dir) === dir) break;
    }
  }
  return [...paths];
}

/** The memo at `path` when it still describes this process's situation (build, host, cwd, env, files, folders); else undefined. */
export function readValidMemo(path: string, spec: string, now = Date.now()): RunMemo | undefined {
  let memo: RunMemo;
  try {
    memo = JSON.parse(readFileSync(path, 'utf8')) as RunMemo;
  } catch {
    return undefined;
  }
  if (memo.version !== MEMO_VERSION || memo.build !== buildId() || memo.node !== process.version || memo.spec !== spec || memo.cwd !== process.cwd()) return undefined;
  if (memo.host !== hostname() || !sameEnv(memo.env, memoEnv())) return undefined;
  if (!filesUnchanged(memo)) return undefined;
  if (memo.writtenAt > now) return undefined;
  return memo;
}

/** Whether every file and folder the memo depends on is as it was. */
export function filesUnchanged(memo: RunMemo): boolean {
  for (const [path, signature] of Object.entries(memo.files)) if (fileSignature(path) !== signature) return false;
  for (const folder of memo.empty) if (!emptyOrAbsent(folder)) return false;
  const lock = statSync(memo.workspaceLock, { throwIfNoEntry: false });
  if (lock && lock.size > 0) return false;
  // A killed run's `.latest-…` link or stat-cache temp file: the full path clears them.
  try {
    if (readdirSync(memo.runsDir).some((n) => n.startsWith('.latest-'))) return false;
    if (readdirSync(join(memo.runsDir, 'cache')).some((n) => n.startsWith('stat-cache.json.'))) return false;
  } catch {
    return false;
  }
  return true;
}

function emptyOrAbsent(folder: string): boolean {
  try {
    return readdirSync(folder).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => b[k] === a[k]);
}

/** What {@link pruneRunMemos} kept and removed (removed: would remove, with `dry`). */
export interface RunMemoPrune {
  kept: number;
  removed: number;
}

/**
 * Drops the no-op memos under `runsDir` that can never be served again: unreadable, of another
 * memo version, or describing files, folders or locks that have changed since (an input edited, a
 * cache entry collected, a pipeline moved). A memo whose mtime is at or after `cutoff` (epoch ms) is
 * left alone: a run may have just written it. Removing one wrongly costs one full no-op run.
 */
export function pruneRunMemos(runsDir: string, opts: { cutoff: number; dry?: boolean }): RunMemoPrune {
  const result: RunMemoPrune = { kept: 0, removed: 0 };
  const dir = join(runsDir, 'cache', 'run-memo');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return result;
  }
  for (const name of names) {
    const file = join(dir, name);
    const young = (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) >= opts.cutoff;
    if (young || stillServes(file)) {
      result.kept++;
      continue;
    }
    if (!opts.dry) rmSync(file, { force: true });
    result.removed++;
  }
  return result;
}

function stillServes(file: string): boolean {
  try {
    const memo = JSON.parse(readFileSync(file, 'utf8')) as RunMemo;
    return memo.version === MEMO_VERSION && filesUnchanged(memo);
  } catch {
    return false;
  }
}
