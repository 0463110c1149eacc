// A database of the benchmark's own on the PostgreSQL server of MLPIPE_BENCH_POSTGRES_URL (else
// MLPIPE_TEST_POSTGRES_URL, else the development machines' 127.0.0.1:5432), dropped afterwards.
import pg from 'pg';

const server = () => process.env.MLPIPE_BENCH_POSTGRES_URL ?? process.env.MLPIPE_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

async function admin(sql) {
  const client = new pg.Client({ connectionString: server(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates `mlpipe_bench_<name>_<pid>`; returns { url, drop() }. */
export async function benchDatabase(name) {
  const db = `mlpipe_bench_${name}_${process.pid}`;
  try {
    await admin(`CREATE DATABASE ${db}`);
  } catch (err) {
    throw new Error(`cannot create a benchmark database on ${server()} (${err.message}): set MLPIPE_BENCH_POSTGRES_URL to a server where databases may be created`);
  }
  const url = new URL(server());
  url.pathname = `/${db}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}
