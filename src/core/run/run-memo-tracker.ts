import Sqlite from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RunMemo } from './run-memo.js';

/** The tables a no-op run writes rows to, in the order they are inserted (a stage row needs its run). */
const TABLES = ['runs', 'stage_runs', 'artifacts'] as const;
/** Tables a memo'd run must have no rows in: the fast path would not know how to write them again. */
const UNSUPPORTED = ['metrics', 'run_tags', 'models'] as const;
const IMPORTED_TAG = 'mlpipe.imported';

/** What the full path records in a memo about the tracker (undefined: the run cannot be memo'd). */
export interface MemoTrackerState {
  userVersion: number;
  rows: RunMemo['rows'];
}

/** Reads the rows the run `runId` wrote, after it finished; undefined when it wrote rows a memo cannot replay or its origins are not plain runs here. */
export function readMemoRows(dbPath: string, runId: string, origins: string[]): MemoTrackerState | undefined {
  const db = new Sqlite(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    for (const table of UNSUPPORTED) if ((db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`).get(runId) as { n: number }).n > 0) return undefined;
    if (!originsPresent(db, origins)) return undefined;
    const rows: RunMemo['rows'] = {};
    rows.runs = db.prepare('SELECT * FROM runs WHERE id = ?').all(runId) as Record<string, unknown>[];
    rows.stage_runs = db.prepare('SELECT * FROM stage_runs WHERE run_id = ? ORDER BY rowid').all(runId) as Record<string, unknown>[];
    rows.artifacts = db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY rowid').all(runId) as Record<string, unknown>[];
    if (rows.runs.length !== 1 || rows.runs[0]!.status !== 'completed') return undefined;
    return { userVersion: db.pragma('user_version', { simple: true }) as number, rows };
  } finally {
    db.close();
  }
}

/** Every origin is a run recorded here (not imported from a cache entry), not deleted: importing it again would write nothing. */
function originsPresent(db: Sqlite.Database, origins: string[]): boolean {
  if (origins.length === 0) return true;
  const marks = origins.map(() => '?').join(',');
  const row = db
    .prepare(`SELECT count(*) AS n FROM runs WHERE id IN (${marks}) AND deleted_at IS NULL AND id NOT IN (SELECT run_id FROM run_tags WHERE key = ?)`)
    .get(...origins, IMPORTED_TAG) as { n: number };
  return row.n === origins.length;
}

/** The times the fast path gives the rows it writes. */
export interface MemoRunTimes {
  startedAt: number;
  endedAt: number;
}

/**
 * Records the memo's run again as `runId`, in one transaction, when the tracker is as the memo found
 * it: the same schema version, no run still marked running (the full path would mark dead ones
 * interrupted), the origins still plain runs here, and no unclean shutdown to check after (a
 * write-ahead log left with frames in it). Returns false, having written nothing, otherwise.
 */
export function recordMemoRun(memo: RunMemo, runId: string, times: MemoRunTimes): boolean {
  if (!existsSync(memo.tracker) || (statSync(`${memo.tracker}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) return false;
  const nativeBinding = nativeAddon();
  if (!nativeBinding) return false;
  const db = new Sqlite(memo.tracker, { fileMustExist: true, timeout: 10_000, nativeBinding });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const write = db.transaction((): boolean => {
      if (db.pragma('user_version', { simple: true }) !== memo.userVersion) return false;
      if ((db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'running'").get() as { n: number }).n > 0) return false;
      if (!originsPresent(db, memo.origins)) return false;
      for (const table of TABLES) {
        for (const row of memo.rows[table] ?? []) {
          const values = replayRow(table, row, runId, times);
          const columns = Object.keys(values);
          if (!columns.every((c) => /^[a-z_]+$/.test(c))) throw new Error(`unexpected column in the run memo: ${columns.join(', ')}`);
          db.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => values[c]));
        }
      }
      return true;
    });
    return write.immediate();
  } finally {
    db.close();
  }
}

/** A memo'd row as the new run's: its id, this process, these times. */
function replayRow(table: (typeof TABLES)[number], row: Record<string, unknown>, runId: string, times: MemoRunTimes): Record<string, unknown> {
  if (table === 'runs') return { ...row, id: runId, pid: process.pid, started_at: times.startedAt, ended_at: times.endedAt, heartbeat_at: times.startedAt };
  if (table === 'stage_runs') return { ...row, run_id: runId, started_at: times.endedAt, ended_at: times.endedAt, duration_ms: 0 };
  return { ...row, run_id: runId };
}

/**
 * better-sqlite3's compiled addon, by path: given it, the package does not load `bindings` to look
 * for it (most of what loading the package cost the fast path, whose bundle includes the package's
 * JavaScript); undefined when it is not where a build puts it.
 */
function nativeAddon(): string | undefined {
  try {
    const path = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
