import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The variable naming the PostgreSQL server the tests use (each test creates and drops its own database in it). */
export const POSTGRES_URL_VARIABLE = 'MLPIPE_TEST_POSTGRES_URL';

/** The server URL: MLPIPE_TEST_POSTGRES_URL, else the development/CI machines' server. */
export const postgresUrl = (): string => process.env[POSTGRES_URL_VARIABLE] ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Whether the server answers (checked once per test file). */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The reason shown for skipped PostgreSQL tests. */
export function skippedReason(): string {
  return `PostgreSQL at ${postgresUrl()} is not reachable: set ${POSTGRES_URL_VARIABLE} to a server where the tests may create databases`;
}

/** A database of its own for one test; `drop()` removes it (closing what still uses it). */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates `mlpipe_test_<random>` on the server and returns its URL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mlpipe_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
