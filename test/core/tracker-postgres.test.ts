import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NoTrackerError, TrackerOpenError, TrackerUnavailableError } from '../../src/core/tracker/errors.js';
import { MIGRATIONS, TrackerSchemaTooNewError } from '../../src/core/tracker/migrations.js';
import { openExistingTracker, openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { createTestDatabase, postgresAvailable, skippedReason, type TestDatabase } from '../helpers/postgres.js';
import { run, trackerContract } from './tracker-contract.js';

const available = await postgresAvailable();
if (!available) console.warn(`skipping the PostgreSQL tracker tests: ${skippedReason()}`);

let db: TestDatabase;
let runsDir: string;
const open: Tracker[] = [];

beforeEach(async () => {
  if (!available) return;
  db = await createTestDatabase();
  runsDir = mkdtempSync(join(tmpdir(), 'mlpipe-pg-tracker-'));
});

afterEach(async () => {
  if (!available) return;
  for (const t of open.splice(0)) await t.close().catch(() => {});
  await db.drop();
  rmSync(runsDir, { recursive: true, force: true });
});

const tracker = async (url = db.url): Promise<Tracker> => {
  const t = await openTracker(runsDir, { tracker: url });
  open.push(t);
  return t;
};

const query = async (sql: string): Promise<pg.QueryResult> => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
};

describe.skipIf(!available)('PostgreSQL tracker (MLPIPE_TEST_POSTGRES_URL): the contract', () => {
  trackerContract({ open: () => tracker() });
});

describe.skipIf(!available)('PostgreSQL tracker (MLPIPE_TEST_POSTGRES_URL): schema and connections', () => {
  it('creates the same tables as SQLite from the one migration history, and records its version', async () => {
    const t = await tracker();
    expect(t.location).toBe(db.url);
    const tables = (await query("select table_name from information_schema.tables where table_schema = 'public' order by 1")).rows.map((r) => r.table_name);
    expect(tables).toEqual(['alias_history', 'artifacts', 'metrics', 'mlpipe_schema', 'model_aliases', 'models', 'run_tags', 'runs', 'stage_runs']);
    expect((await query('select version from mlpipe_schema')).rows).toEqual([{ version: MIGRATIONS.length }]);
    const types = (await query("select column_name, data_type from information_schema.columns where table_name = 'metrics' order by ordinal_position")).rows;
    expect(types).toEqual([
      { column_name: 'run_id', data_type: 'text' },
      { column_name: 'stage', data_type: 'text' },
      { column_name: 'key', data_type: 'text' },
      { column_name: 'step', data_type: 'integer' },
      { column_name: 'value', data_type: 'double precision' },
      { column_name: 'time', data_type: 'bigint' },
      { column_name: 'seq', data_type: 'bigint' },
    ]);
  });

  it('migrates once when several processes open a fresh database at once', async () => {
    const opened = await Promise.all(Array.from({ length: 6 }, () => tracker()));
    expect(opened).toHaveLength(6);
    expect((await query('select count(*)::int as n from mlpipe_schema')).rows).toEqual([{ n: 1 }]);
    await opened[0]!.createRun(run('r-1'));
    expect(await opened[5]!.getRun('r-1')).toMatchObject({ id: 'r-1' });
  });

  it('refuses a schema newer than it knows', async () => {
    await tracker();
    await query(`update mlpipe_schema set version = ${MIGRATIONS.length + 1}`);
    const err = await openTracker(runsDir, { tracker: db.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect((err as Error).cause).toBeInstanceOf(TrackerSchemaTooNewError);
  });

  it('read-only commands never create the schema: an empty database has no tracker', async () => {
    const err = await openExistingTracker(runsDir, { tracker: db.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoTrackerError);
    expect((err as Error).message).toBe(`no experiment tracker in ${db.url}: nothing has been run there yet`);
    expect((await query("select count(*)::int as n from information_schema.tables where table_schema = 'public'")).rows).toEqual([{ n: 0 }]);
    await tracker();
    await expect(openExistingTracker(runsDir, { tracker: db.url }).then((t) => (open.push(t), t.listRuns()))).resolves.toEqual([]);
  });

  it('names the tracker when the database does not exist', async () => {
    const missing = new URL(db.url);
    missing.pathname = `/${db.name}_missing`;
    const err = await openTracker(runsDir, { tracker: missing.toString() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerOpenError);
    expect((err as Error).message).toBe(`cannot open the tracker ${missing}: database "${db.name}_missing" does not exist`);
    expect((err as TrackerOpenError).hint).toContain('createdb');
  });

  it('an unreachable server is TrackerUnavailableError naming the tracker, and so is a connection lost mid-use', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = `postgresql://postgres@127.0.0.1:${port}/x`;
    const err = await openTracker(runsDir, { tracker: nowhere }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerUnavailableError);
    expect((err as Error).message).toBe(`the tracker ${nowhere} is unreachable: connection refused (is the server running?)`);
    expect((err as TrackerUnavailableError).exitCode).toBe(2);

    const t = await tracker();
    await t.createRun(run('r-1'));
    await query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db.name}' and application_name = 'mlpipe'`);
    // The pool may hand back the killed connection once; the next attempt connects anew.
    const lost = await t.listRuns().catch((e: unknown) => e);
    if (lost instanceof Error) expect(lost).toBeInstanceOf(TrackerUnavailableError);
    expect((await t.listRuns()).map((r) => r.id)).toEqual(['r-1']);
  });

  it('hides a password in the location', async () => {
    const url = new URL(db.url);
    url.password = 'secret';
    const t = await tracker(url.toString());
    url.password = '***';
    expect(t.location).toBe(url.toString());
  });
});
