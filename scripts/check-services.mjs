// CI: fail loudly when a service the tests need is unreachable (otherwise its tests would only be
// reported skipped). PostgreSQL: MLPIPE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
// Redis: MLPIPE_TEST_REDIS_URL (default redis://127.0.0.1:6379). Run after `npm ci` (it uses pg).
import { createConnection } from 'node:net';
import pg from 'pg';

const postgres = process.env.MLPIPE_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const redis = new URL(process.env.MLPIPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

async function checkPostgres() {
  const client = new pg.Client({ connectionString: postgres, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
}

function checkRedis() {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: redis.hostname, port: Number(redis.port || 6379) });
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      clearTimeout(timer);
      socket.end();
      const reply = d.toString();
      if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(reply.trim())}`));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

let failed = false;
for (const [name, where, check] of [
  ['PostgreSQL', postgres, checkPostgres],
  ['Redis', redis.toString(), checkRedis],
]) {
  try {
    await check();
    console.log(`${name} at ${where}: reachable`);
  } catch (err) {
    failed = true;
    console.error(`ERROR: ${name} at ${where} is unreachable (${err.code ?? err.message}); CI must run its tests, not skip them`);
  }
}
process.exit(failed ? 1 : 0);
