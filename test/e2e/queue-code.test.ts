import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { counterLines, makeQueueSetup, redisAvailable, redisSkipReason, type QueueSetup } from './queue-fixture.js';

const available = await redisAvailable();
if (!available) console.warn(`skipping the queue code-fingerprint tests that need Redis: ${redisSkipReason()}`);

let setup: QueueSetup | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  await setup?.cleanup();
  await ws?.cleanup();
  setup = ws = undefined;
});

// No deps list a.mjs or lib/b.mjs: a worker (an empty folder of its own) has them only because the
// job carries the code files the command runs. Each execution appends "worker b=N" to the counter.
const files = {
  'pipeline.yaml': `name: qcode
stages:
  a:
    run: node a.mjs
    outs: [out/a.txt]
`,
  'a.mjs': `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { b } from './lib/b.mjs';
appendFileSync(process.env.MLPIPE_TEST_COUNTER, \`\${process.env.MLPIPE_WORKER_NAME ?? 'local'} b=\${b}\\n\`);
mkdirSync('out', { recursive: true });
writeFileSync('out/a.txt', \`b=\${b}\\n\`);
`,
  'lib/b.mjs': 'export const b = 1;\n',
};

describe.skipIf(!available)('queue workers and code fingerprints (real Redis, real processes)', () => {
  it('a worker runs the code files the job carries; an edited import re-runs there; --force reaches the worker and its result replaces the entry', async () => {
    setup = await makeQueueSetup();
    ws = await makeWorkspace(files);
    const s = setup;
    await s.startWorker('w1');
    const run = (extra: string[] = []) => runJson(['run', 'pipeline.yaml', '--executor', 'queue', ...s.queueFlags, ...extra], { cwd: ws!.dir, env: s.env });

    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.stages[0]).toMatchObject({ name: 'a', status: 'completed', cached: false });
    expect(await readFile(ws.path('out/a.txt'), 'utf8')).toBe('b=1\n');
    expect(await counterLines(s.counter)).toEqual(['w1 b=1']);

    await writeFile(ws.path('lib/b.mjs'), 'export const b = 2;\n');
    const edited = await run();
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.json.stages[0]).toMatchObject({ cached: false, reason: expect.stringMatching(/^code lib\/b\.mjs changed/) });
    expect(await readFile(ws.path('out/a.txt'), 'utf8')).toBe('b=2\n');
    expect(await counterLines(s.counter)).toEqual(['w1 b=1', 'w1 b=2']);

    // Same key, an entry on the remote: without --force carried to the worker it would hand that entry back unrun.
    const forced = await run(['--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.stages[0]).toMatchObject({ cached: false, reasons: [{ kind: 'forced' }] });
    expect(await counterLines(s.counter)).toEqual(['w1 b=1', 'w1 b=2', 'w1 b=2']);

    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.stages[0]).toMatchObject({ cached: true, cachedFrom: forced.json.runId });
    expect(await counterLines(s.counter)).toHaveLength(3);
  });
});
