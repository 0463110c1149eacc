import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { counterLines, makeQueueSetup, redisAvailable, redisSkipReason, startedCount, type QueueSetup, type WorkerProcess } from './queue-fixture.js';

// gen (shell) ── prepare (preprocess) ── train (train, lr) ── score (shell, x)
// 2 × 6 points: gen and prepare are shared by all 12, train by the 6 of one lr. Each shell command
// appends a line to $MLPIPE_TEST_COUNTER, a file outside every workspace.
const files = {
  'pipeline.yaml': `name: qsweep
params:
  lr: 0.01
  x: 1
stages:
  gen:
    run: node gen.mjs
    deps: [gen.mjs]
    outs: [out/data.csv]
  prepare:
    uses: preprocess
    with:
      input: \${stages.gen.outputs.out/data.csv}
      target: label
      split: { test: 0.2, validation: 0.2, seed: 1, stratify: true }
  train:
    uses: train
    with:
      data: \${stages.prepare.outputs.dataset}
      model: { preset: logistic_regression }
      optimizer: { name: adam, learning_rate: "\${params.lr}" }
      epochs: 2
      seed: 7
  score:
    run: node score.mjs \${params.x} \${stages.train.outputs.model}
    deps: [score.mjs]
    outs: [out/score.json]
    metrics: out/score.json
`,
  'gen.mjs': `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
appendFileSync(process.env.MLPIPE_TEST_COUNTER, 'gen\\n');
const rows = ['a,b,label'];
for (let i = 0; i < 60; i++) rows.push(\`\${(i * 7) % 13},\${(i * 5) % 11},\${i % 3 === 0 ? 'yes' : 'no'}\`);
mkdirSync('out', { recursive: true });
writeFileSync('out/data.csv', rows.join('\\n') + '\\n');
`,
  // The model's weights enter the metric: identical metrics mean identically trained models.
  'score.mjs': `import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [x, model] = process.argv.slice(2);
const weights = createHash('sha256').update(readFileSync(join(model, 'weights.bin'))).digest('hex');
appendFileSync(process.env.MLPIPE_TEST_COUNTER, \`score \${x} \${weights.slice(0, 12)}\\n\`);
mkdirSync('out', { recursive: true });
writeFileSync('out/score.json', JSON.stringify({ x: Number(x), weights: parseInt(weights.slice(0, 8), 16) }));
`,
};

const sweep = ['--sweep', 'params.lr=0.01,0.1', '--sweep', 'params.x=1,2,3,4,5,6'];

interface Point {
  set: string[];
  status: string;
  runId: string;
  metrics: Record<string, number>;
}

const byPoint = (points: Point[]) => Object.fromEntries(points.map((p) => [p.set.join(' '), p.metrics]));

const available = await redisAvailable();
if (!available) console.warn(`skipping the queue sweep tests: ${redisSkipReason()}`);

describe.skipIf(!available)('a sweep on three workers (--executor queue)', () => {
  let setup: QueueSetup;
  let project: Workspace;
  let reference: Workspace;
  let workers: WorkerProcess[];
  beforeAll(async () => {
    setup = await makeQueueSetup();
    project = await makeWorkspace(files);
    reference = await makeWorkspace(files);
    workers = await Promise.all(['w1', 'w2', 'w3'].map((name) => setup.startWorker(name)));
  });
  afterAll(async () => {
    await setup?.cleanup();
    await project?.cleanup();
    await reference?.cleanup();
  });

  it('completes all 12 points with the metrics of the same sweep run locally, each stage run once', async () => {
    const localCounter = join(setup.dir, 'local-counter.log');
    const [local, queued] = await Promise.all([
      runJson(['run', 'pipeline.yaml', ...sweep], { cwd: reference.dir, env: { MLPIPE_TEST_COUNTER: localCounter } }),
      runJson(['run', 'pipeline.yaml', ...sweep, '--executor', 'queue', ...setup.queueFlags], { cwd: project.dir, env: setup.env }),
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(queued.code, queued.stderr).toBe(0);
    const points = queued.json.points as Point[];
    expect(points.map((p) => p.status)).toEqual(Array(12).fill('completed'));
    expect(byPoint(points)).toEqual(byPoint(local.json.points));
    expect(new Set(points.map((p) => p.metrics['score.weights'])).size).toBe(2);

    // Each shell command ran exactly once for its key: gen once, score once per point.
    const lines = await counterLines(setup.counter);
    expect(lines.filter((l) => l === 'gen')).toHaveLength(1);
    const scores = lines.filter((l) => l.startsWith('score '));
    expect(scores).toHaveLength(12);
    expect(new Set(scores.map((l) => l.split(' ')[1])).size).toBe(6);
    // The built-in stages likewise, on whichever worker took them.
    expect(startedCount(workers, 'qsweep', 'gen')).toBe(1);
    expect(startedCount(workers, 'qsweep', 'prepare')).toBe(1);
    expect(startedCount(workers, 'qsweep', 'train')).toBe(2);
    expect(startedCount(workers, 'qsweep', 'score')).toBe(12);
    expect(workers.every((w) => !w.stderr().includes('already completed by another worker'))).toBe(true);
    // The points fanned out: more than one worker ran stages.
    expect(workers.filter((w) => startedCount([w], 'qsweep', '\\w+') > 0).length).toBeGreaterThan(1);
  });
});
