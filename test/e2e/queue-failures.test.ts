import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, runJson } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { killHard, startCli } from '../reliability/harness.js';
import { counterLines, filesUnder, makeQueueSetup, redisAvailable, redisSkipReason, redisUrl, startedCount, type QueueSetup } from './queue-fixture.js';

const available = await redisAvailable();
if (!available) console.warn(`skipping the queue failure tests that need Redis: ${redisSkipReason()}`);

let setup: QueueSetup | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await setup?.cleanup();
  await ws?.cleanup();
  setup = ws = undefined;
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('Redis unreachable', () => {
  it('run --executor queue, worker and workers exit 2 naming the URL, with a hint and no stack', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': 'name: q\nstages:\n  a:\n    run: echo a > a.txt\n    outs: [a.txt]\n' });
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const remote = ['--remote', join(ws.dir, 'remote')];
    for (const args of [['run', 'pipeline.yaml', '--executor', 'queue', '--queue', url, ...remote], ['worker', '--queue', url, ...remote], ['workers', '--queue', url]]) {
      const r = await runCli(args, { cwd: ws.dir });
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`cannot reach the queue's Redis at ${url}: connect ECONNREFUSED`);
      expect(r.stderr).toContain('Hint: start Redis there');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(existsSync(ws.path('a.txt'))).toBe(false);
    expect(existsSync(ws.path('runs/tracker.db'))).toBe(false);
  });
});

// Four points; the first execution of point 2 writes a partial output, says which worker runs it,
// and then hangs until that worker is killed. Every execution appends start/end to the counter.
const killSpec = {
  'pipeline.yaml': `name: qkill
params:
  x: 1
stages:
  slow:
    run: node slow.mjs \${params.x}
    deps: [slow.mjs]
    outs: [out/slow.txt]
    metrics: out/slow.json
`,
  'slow.mjs': `import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const x = process.argv[2];
const held = join(process.env.MLPIPE_TEST_MARKS, 'held');
appendFileSync(process.env.MLPIPE_TEST_COUNTER, \`start \${x}\\n\`);
mkdirSync('out', { recursive: true });
if (x === '2' && !existsSync(held)) {
  writeFileSync('out/slow.txt', 'PARTIAL OUTPUT of a killed stage\\n');
  writeFileSync(held + '.tmp', process.env.MLPIPE_WORKER_NAME);
  renameSync(held + '.tmp', held);
  setInterval(() => {}, 1000);
} else {
  writeFileSync('out/slow.txt', \`done \${x}\\n\`);
  writeFileSync('out/slow.json', JSON.stringify({ x: Number(x) }));
  appendFileSync(process.env.MLPIPE_TEST_COUNTER, \`end \${x}\\n\`);
}
`,
};

// hold and wait (both on workers labelled gpu) start, say so, and finish once the test releases them;
// after needs both.
const coordinatorSpec = {
  'pipeline.yaml': `name: qcoord
stages:
  hold:
    run: node hold.mjs hold
    deps: [hold.mjs]
    outs: [out/hold.txt]
    resources: { labels: [gpu] }
  wait:
    run: node hold.mjs wait
    deps: [hold.mjs]
    outs: [out/wait.txt]
    resources: { labels: [gpu] }
  after:
    run: cat \${stages.hold.outputs.out/hold.txt} \${stages.wait.outputs.out/wait.txt} > out/after.txt && echo after >> "$MLPIPE_TEST_COUNTER"
    outs: [out/after.txt]
`,
  'hold.mjs': `import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const name = process.argv[2];
const marks = process.env.MLPIPE_TEST_MARKS;
appendFileSync(process.env.MLPIPE_TEST_COUNTER, \`\${name}\\n\`);
writeFileSync(join(marks, \`started-\${name}\`), '');
while (!existsSync(join(marks, 'release'))) await new Promise((r) => setTimeout(r, 50));
mkdirSync('out', { recursive: true });
writeFileSync(\`out/\${name}.txt\`, \`\${name}\\n\`);
`,
};

describe.skipIf(!available)('queue failures (real Redis, real processes)', () => {
  it('a worker SIGKILLed mid-stage: the job goes to another worker, the sweep completes, nothing is recorded twice, no partial output is cached', async () => {
    setup = await makeQueueSetup();
    ws = await makeWorkspace(killSpec);
    const s = setup;
    // Stalled-job recovery within seconds instead of BullMQ's default 30 s.
    const quick = { MLPIPE_WORKER_LOCK_MS: '3000', MLPIPE_WORKER_STALLED_MS: '1000' };
    const workers = await Promise.all(['k1', 'k2', 'k3'].map((name) => s.startWorker(name, { env: quick })));
    const coordinator = startCli(['run', 'pipeline.yaml', '--sweep', 'params.x=1,2,3,4', '--executor', 'queue', ...s.queueFlags, '--json'], ws.dir, s.env);
    const held = join(s.marks, 'held');
    await waitFor('point 2 to start on a worker', () => existsSync(held), coordinator);
    const victim = workers.find((w) => w.name === readFileSync(held, 'utf8'));
    if (!victim) throw new Error(`no worker is named ${readFileSync(held, 'utf8')}`);
    await killHard(victim);

    expect(await coordinator.exited, coordinator.stderr()).toBe(0);
    const summary = JSON.parse(coordinator.stdout());
    expect(summary.points.map((p: any) => [p.set[0], p.status, p.metrics['slow.x']])).toEqual([1, 2, 3, 4].map((x) => [`params.x=${x}`, 'completed', x]));
    // The killed attempt started and never ended; the recovered one ran to the end on a survivor.
    const lines = await counterLines(s.counter);
    expect(lines).toEqual(['end 1', 'end 2', 'end 3', 'end 4', 'start 1', 'start 2', 'start 2', 'start 3', 'start 4']);
    const point2 = summary.points[1].runId;
    expect(victim.stderr()).toContain(`qkill:slow (run ${point2}, job`);
    expect(victim.stderr()).not.toContain(`qkill:slow (run ${point2}): done`);
    expect(workers.filter((w) => w.stderr().includes(`qkill:slow (run ${point2}): done`))).toHaveLength(1);
    expect(startedCount(workers, 'qkill', 'slow')).toBe(5);

    // Recorded once: four runs, one stage row each, no metric point twice.
    const db = new Database(s.tracker, { readonly: true });
    try {
      const runs = db.prepare('select id, status from runs').all() as { id: string; status: string }[];
      expect(runs.map((r) => r.status)).toEqual(Array(4).fill('completed'));
      const stages = db.prepare('select run_id, stage, status from stage_runs').all() as { status: string }[];
      expect(stages.map((r) => r.status)).toEqual(Array(4).fill('completed'));
      const twice = db.prepare('select run_id, stage, key, step, count(*) as n from metrics group by run_id, stage, key, step having n > 1').all();
      expect(twice).toEqual([]);
    } finally {
      db.close();
    }

    // The partial output reached no object and no manifest of the remote cache.
    const remote = await filesUnder(s.remote);
    const texts = [...remote.values()].map((b) => b.toString('utf8'));
    expect(texts.filter((t) => t === 'PARTIAL OUTPUT of a killed stage\n')).toEqual([]);
    expect(texts.filter((t) => /^done \d\n$/.test(t)).sort()).toEqual(['done 1\n', 'done 2\n', 'done 3\n', 'done 4\n']);
  });

  it('the coordinator killed: workers finish what they hold, a re-run restores it; mlpipe workers lists them and the queue depth', async () => {
    setup = await makeQueueSetup();
    ws = await makeWorkspace(coordinatorSpec);
    const s = setup;
    const worker = await s.startWorker('gpu-1', { args: ['--label', 'gpu'] });
    const coordinator = startCli(['run', 'pipeline.yaml', '--executor', 'queue', ...s.queueFlags], ws.dir, s.env);
    await waitFor('a held stage to start on the worker', () => existsSync(join(s.marks, 'started-hold')) || existsSync(join(s.marks, 'started-wait')), coordinator);
    const first = existsSync(join(s.marks, 'started-hold')) ? 'hold' : 'wait';

    // One stage runs on the worker, the other waits in the queue of its label.
    const listed = await runJson(['workers', '--queue', redisUrl(), '--queue-prefix', s.prefix], { cwd: ws.dir });
    expect(listed.code, listed.stderr).toBe(0);
    const [info] = listed.json.workers;
    expect(listed.json.workers).toHaveLength(1);
    expect(info).toMatchObject({ name: 'gpu-1', labels: ['gpu'], concurrency: 1, queues: ['stages', 'stages.gpu'] });
    expect(info.jobs.map((j: any) => [j.pipeline, j.stage])).toEqual([['qcoord', first]]);
    expect(Date.now() - info.heartbeat).toBeLessThan(60_000);
    expect(listed.json.queues.find((q: any) => q.name === 'stages.gpu')).toMatchObject({ waiting: 1, active: 1 });
    const human = await runCli(['workers', '--queue', redisUrl(), '--queue-prefix', s.prefix], { cwd: ws.dir });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`gpu-1 +gpu +1/1 +qcoord:${first} \\(r-[0-9a-f]+\\) +\\d+\\.\\d s ago`));
    expect(human.stdout).toMatch(/stages\.gpu +1 +1 /);

    await killHard(coordinator);
    await writeFile(join(s.marks, 'release'), '');
    await waitFor('the worker to finish both held stages', () => (worker.stderr().match(/qcoord:(hold|wait) \(run [^)]*\): done/g) ?? []).length === 2, worker);

    const again = await runJson(['run', 'pipeline.yaml', '--executor', 'queue', ...s.queueFlags], { cwd: ws.dir, env: s.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.stages.map((st: any) => [st.name, st.status, st.cached])).toEqual([
      ['hold', 'completed', true],
      ['wait', 'completed', true],
      ['after', 'completed', false],
    ]);
    expect(await counterLines(s.counter)).toEqual(['after', 'hold', 'wait']);
    expect(startedCount([worker], 'qcoord', 'hold')).toBe(1);
    expect(startedCount([worker], 'qcoord', 'wait')).toBe(1);
    expect(await readFile(ws.path('out/after.txt'), 'utf8')).toBe('hold\nwait\n');
  });
});
