import { mkdirSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { PipelineSpec } from '../spec/types.js';
import type { RunEvent } from './events.js';
import type { RunSummary } from './run-pipeline.js';
import { workspaceLockPath } from './run-pipeline.js';
import { resolveTracker } from '../tracker/tracker-url.js';
import { readMemoRows } from './run-memo-tracker.js';
import { buildId, fileSignature, lookupPaths, memoEnv, memoPath, MEMO_VERSION, settled, type RunMemo } from './run-memo.js';
import { writeAtomic } from '../fs/write-atomic.js';
import { openLocalStore } from '../store/local-store.js';

/** What the full path hands over after `mlpipe run SPEC` with no other arguments. */
export interface RunMemoInput {
  spec: PipelineSpec;
  /** The command's argument, as given. */
  specArg: string;
  runsDir: string;
  summary: RunSummary;
  /** Every event the run emitted, in order. */
  events: RunEvent[];
  /** Absolute paths of the files the run hashed or checked through the stat cache. */
  hashed: Iterable<string>;
}

/**
 * Writes the no-op memo of a run ({@link RunMemo}) when the run was a pure no-op that the fast path
 * can repeat exactly: completed, every stage restored with nothing printed, the lock file and
 * .gitignore unchanged, no model references or code fingerprints (their digests depend on more than
 * file stats), plain files only, all of them older than the racy window, an SQLite tracker. Returns
 * whether it wrote one; a memo that cannot be written only costs the next run its full path.
 */
export async function writeRunMemo(input: RunMemoInput): Promise<boolean> {
  try {
    const memo = await buildMemo(input);
    if (!memo) return false;
    const path = memoPath(input.runsDir, memo.cwd, input.specArg);
    mkdirSync(join(path, '..'), { recursive: true });
    await writeAtomic(path, JSON.stringify(memo));
    return true;
  } catch {
    return false;
  }
}

async function buildMemo({ spec, specArg, runsDir, summary, events, hashed }: RunMemoInput): Promise<RunMemo | undefined> {
  const build = buildId();
  if (!build || summary.status !== 'completed' || summary.exitCode !== 0 || summary.lock?.changed || summary.gitignore?.changed) return undefined;
  if (summary.stages.length === 0 || !summary.stages.every((s) => s.status === 'completed' && s.cached && s.cachedFrom)) return undefined;
  if (!events.every((e) => e.type === 'run-started' || e.type === 'stage-started' || e.type === 'stage-finished' || e.type === 'run-finished')) return undefined;
  for (const name of spec.order) {
    const stage = spec.stages[name]!;
    if ((stage.impl.modelRefs?.(stage.config) ?? []).length > 0 || (stage.impl.codeEntries?.(stage.config) ?? []).length > 0) return undefined;
  }
  const tracker = resolveTracker(runsDir);
  if (tracker.kind !== 'sqlite') return undefined;
  const writtenAt = Date.now();
  const files: Record<string, string | null> = {};
  const store = openLocalStore(runsDir);
  const regular = [...hashed, resolve(spec.file)];
  for (const e of events) {
    if (e.type === 'run-started') for (const s of e.plan.stages) for (const input of Object.keys(s.inputs)) regular.push(resolve(spec.dir, input));
    if (e.type === 'stage-finished') {
      for (const out of Object.values(e.summary.outputs ?? {})) regular.push(resolve(spec.dir, out));
      if (!e.record.key) return undefined;
      regular.push(store.manifestPath(e.record.key));
    }
  }
  for (const path of regular) {
    const signature = fileSignature(path);
    if (!signature?.startsWith('f:')) return undefined;
    files[path] = signature;
  }
  const others = [...lookupPaths([process.cwd(), spec.dir]), ...(summary.lock ? [summary.lock.path] : []), ...(summary.gitignore ? [summary.gitignore.path] : [])];
  for (const path of others) files[path] ??= fileSignature(path);
  if (!Object.values(files).every((s) => settled(s, writtenAt))) return undefined;
  const origins = [...new Set(summary.stages.map((s) => s.cachedFrom!))];
  const state = readMemoRows(tracker.path, summary.runId, origins);
  const runDirs = dirsUnder(join(runsDir, summary.runId));
  if (!state || !runDirs) return undefined;
  return {
    version: MEMO_VERSION,
    build,
    node: process.version,
    host: hostname(),
    cwd: process.cwd(),
    runsDir,
    specDir: spec.dir,
    spec: specArg,
    env: memoEnv(),
    writtenAt,
    files,
    empty: [join(runsDir, 'tmp'), join(runsDir, 'cache', 'tmp')],
    workspaceLock: await workspaceLockPath(runsDir, spec.dir),
    tracker: tracker.path,
    userVersion: state.userVersion,
    origins,
    runId: summary.runId,
    runDirs,
    rows: state.rows,
    events: events.filter((e) => e.type !== 'run-finished'),
    stages: summary.stages,
  };
}

/** The folders under a run's folder, relative to it; undefined when it holds any file (logs, outputs: not a bare no-op). */
function dirsUnder(root: string, prefix = ''): string[] | undefined {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    if (!entry.isDirectory()) return undefined;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const below = dirsUnder(root, rel);
    if (!below) return undefined;
    found.push(rel, ...below);
  }
  return found;
}
