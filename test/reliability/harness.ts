import { blake3 } from '@napi-rs/blake-hash';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliPath, type CliResult } from '../helpers/cli.js';

export { waitFor } from '../helpers/wait.js';

/** Whether the tests run as root (who ignores permission bits). */
export const isRoot = process.getuid?.() === 0;
/** The uid and gid of `nobody`. */
export const NOBODY = 65534;

/** Runs the CLI and collects its output; as root it runs as `nobody`, for whom permission bits hold. */
export function runAsUser(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', HOME: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A CLI process started in the background, with its output collected as it comes. */
export interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has gone. */
  exited: Promise<number | string | null>;
}

/** Starts `mlpipe ARGS` like a user without a TTY would. */
export function startCli(args: string[], cwd: string, env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Kills the process with SIGKILL and waits until it has gone. */
export async function killHard(started: Started): Promise<void> {
  started.child.kill('SIGKILL');
  await started.exited;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** What is in a runs folder's store, checked byte by byte. */
export interface StoreReport {
  /** Every object's digest (its path under objects/). */
  objects: string[];
  /** Objects whose bytes do not hash to their name. */
  badObjects: string[];
  /** Manifest keys. */
  manifests: string[];
  /** Manifests that do not parse or name an object that is not there. */
  badManifests: string[];
  /** Entries of cache/tmp (half-written files). */
  temps: string[];
  /** Stage name of each manifest, by key. */
  stageOf: Record<string, string>;
}

/** Reads the whole store the way a suspicious user would: hashes every object, parses every manifest. */
export function inspectStore(runsDir: string): StoreReport {
  const cache = join(runsDir, 'cache');
  const objects: string[] = [];
  const badObjects: string[] = [];
  for (const path of listFiles(join(cache, 'objects'))) {
    const digest = path.split('/').slice(-2).join('');
    objects.push(digest);
    if (blake3(readFileSync(path)).toString('hex') !== digest) badObjects.push(digest);
  }
  const manifests: string[] = [];
  const badManifests: string[] = [];
  const stageOf: Record<string, string> = {};
  for (const path of listFiles(join(cache, 'manifests'))) {
    const key = path.split('/').pop()!.replace(/\.json$/, '');
    manifests.push(key);
    try {
      const m = JSON.parse(readFileSync(path, 'utf8')) as { stage: string; outputs: Record<string, { files: { hash: string }[] }> };
      stageOf[key] = m.stage;
      const missing = Object.values(m.outputs).flatMap((o) => o.files).filter((f) => !objects.includes(f.hash));
      if (missing.length > 0) badManifests.push(key);
    } catch {
      badManifests.push(key);
    }
  }
  const temps = existsSync(join(cache, 'tmp')) ? readdirSync(join(cache, 'tmp')) : [];
  return { objects: objects.sort(), badObjects, manifests: manifests.sort(), badManifests, temps, stageOf };
}

/** The tracker's runs and stage runs, read through a separate connection after an integrity check. */
export function readTracker(runsDir: string) {
  const db = new Database(join(runsDir, 'tracker.db'), { readonly: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    const runs = db.prepare('select id, status from runs order by started_at, rowid').all() as { id: string; status: string }[];
    const stages = db.prepare('select run_id as runId, stage, status, cache_key as cacheKey from stage_runs order by rowid').all() as {
      runId: string;
      stage: string;
      status: string;
      cacheKey: string | null;
    }[];
    return { integrity, runs, stages, stagesOf: (runId: string) => stages.filter((s) => s.runId === runId).map((s) => [s.stage, s.status]) };
  } finally {
    db.close();
  }
}

/** Sets the mtime of everything in the store `ms` into the past, as if it had been stored that long ago. */
export function ageStore(runsDir: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  for (const sub of ['objects', 'manifests']) for (const path of listFiles(join(runsDir, 'cache', sub))) utimesSync(path, then, then);
}

/** Whether a process group still has a member that is not a zombie (Linux /proc). */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      continue;
    }
  }
  return false;
}

/** Size of a file in bytes. */
export const sizeOf = (path: string): number => statSync(path).size;
