import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLocalStore } from '../../src/core/store/local-store.js';
import { encodeManifest } from '../../src/core/cache/manifest.js';
import { commitOutputs } from '../../src/core/cache/stage-outputs.js';
import { StatCache } from '../../src/core/hash/stat-cache.js';
import { acquireLock } from '../../src/core/workspace-lock.js';
import { UserError } from '../../src/errors.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { inspectStore, readTracker, startCli } from './harness.js';

// Issue 7.3: several `mlpipe run` processes at once on one workspace.

const workspaces: Workspace[] = [];
afterEach(async () => {
  for (const ws of workspaces.splice(0)) await ws.cleanup();
});

const iris = readFileSync(join(import.meta.dirname, '..', '..', 'pipelines', 'iris', 'data', 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .filter((_, i) => i === 0 || i % 3 === 0)
  .join('\n');

// a.yaml: gen ── a_only      b.yaml: gen ── b_only      (gen is the same stage in both)
const shellFiles = {
  'a.yaml': `name: a
stages:
  gen:
    run: mkdir -p out && for i in 1 2 3 4 5; do echo "row $i" >> out/gen.tmp; done && mv out/gen.tmp out/gen.txt
    outs: [out/gen.txt]
  a_only:
    run: tr a-z A-Z < \${stages.gen.outputs.out/gen.txt} > out/a.txt
    outs: [out/a.txt]
`,
  'b.yaml': `name: b
stages:
  gen:
    run: mkdir -p out && for i in 1 2 3 4 5; do echo "row $i" >> out/gen.tmp; done && mv out/gen.tmp out/gen.txt
    outs: [out/gen.txt]
  b_only:
    run: rev \${stages.gen.outputs.out/gen.txt} > out/b.txt
    outs: [out/b.txt]
`,
};

// Built-in stages only: their outputs live in the run folder, so these runs take no workspace lock.
const builtinFiles = {
  'iris.csv': iris,
  'a.yaml': `name: a
stages:
  shared:
    uses: preprocess
    with: { input: iris.csv, target: species, split: { test: 0.2, seed: 7 } }
  a_only:
    uses: preprocess
    with: { input: iris.csv, target: species, normalize: minmax, split: { test: 0.3, seed: 1 } }
`,
  'b.yaml': `name: b
stages:
  shared:
    uses: preprocess
    with: { input: iris.csv, target: species, split: { test: 0.2, seed: 7 } }
  b_only:
    uses: preprocess
    with: { input: iris.csv, target: species, normalize: none, split: { test: 0.25, seed: 2 } }
`,
};

type Summary = { runId: string; status: string; stages: { name: string; status: string }[]; artifacts: { stage: string; name: string; digest: string }[] };

const digests = (s: Summary) => Object.fromEntries(s.artifacts.map((a) => [`${a.stage}.${a.name}`, a.digest]));

async function sequentialReference(files: Record<string, string>): Promise<Record<string, Record<string, string>>> {
  const ws = await makeWorkspace(files);
  workspaces.push(ws);
  const out: Record<string, Record<string, string>> = {};
  for (const spec of ['a.yaml', 'b.yaml']) {
    const r = await runJson<Summary>(['run', spec], { cwd: ws.dir });
    expect(r.code).toBe(0);
    out[spec] = digests(r.json);
  }
  return out;
}

async function runAtOnce(files: Record<string, string>, specs: string[]) {
  const ws = await makeWorkspace(files);
  workspaces.push(ws);
  const started = specs.map((spec) => ({ spec, run: startCli(['run', spec, '--json'], ws.dir) }));
  const results = await Promise.all(
    started.map(async ({ spec, run }) => ({ spec, code: await run.exited, json: JSON.parse(run.stdout()) as Summary, stderr: run.stderr() })),
  );
  return { ws, results };
}

function expectConsistentStore(runsDir: string) {
  const store = inspectStore(runsDir);
  expect(store.badObjects).toEqual([]);
  expect(store.badManifests).toEqual([]);
  expect(store.temps).toEqual([]);
  const named = new Set(
    store.manifests.flatMap((key) => {
      const m = JSON.parse(readFileSync(join(runsDir, 'cache', 'manifests', key.slice(0, 2), `${key}.json`), 'utf8'));
      return Object.values(m.outputs as Record<string, { files: { hash: string }[] }>).flatMap((o) => o.files.map((f) => f.hash));
    }),
  );
  expect(store.objects).toEqual([...named].sort());
}

describe('concurrent runs on one workspace', () => {
  it.each([
    ['shell pipelines sharing a stage (they take turns on the workspace lock)', shellFiles],
    ['built-in pipelines sharing a stage (no lock: both may commit the same objects and manifest)', builtinFiles],
  ])('%s: every run completes with full records and the results of sequential runs', async (_, files) => {
    const reference = await sequentialReference(files);
    const specs = ['a.yaml', 'b.yaml', 'a.yaml', 'b.yaml'];
    const { ws, results } = await runAtOnce(files, specs);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/SQLITE_BUSY|database is locked/i);
      expect(r.json.status).toBe('completed');
      expect(digests(r.json)).toEqual(reference[r.spec]);
    }
    const tracker = readTracker(ws.path('runs'));
    expect(tracker.integrity).toEqual(['ok']);
    expect(tracker.runs).toHaveLength(4);
    for (const run of tracker.runs) {
      expect(run.status).toBe('completed');
      const mine = results.find((r) => r.json.runId === run.id)!;
      expect(tracker.stagesOf(run.id)).toEqual(mine.json.stages.map((s) => [s.name, 'completed']));
    }
    expectConsistentStore(ws.path('runs'));
  });
});

describe('two processes committing the same outputs', () => {
  it('two stores on one runs folder commit identical folders (moved and copied) and one manifest key at once: one whole copy of each object', async () => {
    const ws = await makeWorkspace();
    workspaces.push(ws);
    const runsDir = ws.path('runs');
    const write = (dir: string) => {
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}.bin`), `payload ${i % 25}\n`.repeat(100 + (i % 25)));
    };
    for (let round = 0; round < 5; round++) {
      const sources = ['one', 'two', 'three'].map((n) => ws.path(`src-${round}-${n}`));
      sources.forEach(write);
      const stores = sources.map(() => openLocalStore(runsDir));
      const hasher = await StatCache.open(runsDir, { fresh: true });
      const committed = await Promise.all(
        sources.map((src, i) => commitOutputs(stores[i]!, hasher, { out: { path: src, move: i !== 2 } })),
      );
      expect(new Set(committed.map((c) => c.out!.digest)).size).toBe(1);
      await Promise.all(
        committed.map((outputs, i) =>
          stores[i]!.putManifest('abc123', encodeManifest({ schemaVersion: 1, key: 'abc123', stage: 's', kind: 'shell', runId: `r-${i}`, createdAt: i, outputs, metrics: {} })),
        ),
      );
    }
    expectConsistentStore(runsDir);
    expect(inspectStore(runsDir).objects).toHaveLength(25);
  });
});

describe('the workspace lock', () => {
  it('a lock left by a killed process is taken over, and twelve waiters racing for it never hold it at once', async () => {
    const ws = await makeWorkspace();
    workspaces.push(ws);
    const lock = ws.path('locks/w.lock');
    mkdirSync(ws.path('locks'));
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    const deadPid = dead.pid!;
    writeFileSync(lock, JSON.stringify({ pid: deadPid, host: hostname(), label: 'killed run' }));
    let holding = 0;
    let most = 0;
    const order: string[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        for (let k = 0; k < i; k++) await new Promise((r) => setImmediate(r));
        const release = await acquireLock(lock, `waiter ${i}`, { pollMs: 5 });
        most = Math.max(most, ++holding);
        order.push(`waiter ${i}`);
        await new Promise((r) => setTimeout(r, 2));
        holding--;
        await release();
      }),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `waiter ${i}`).sort());
  });

  it('waiting for the lock ends with exit code 130 when interrupted, naming the holder', async () => {
    const ws = await makeWorkspace();
    workspaces.push(ws);
    const release = await acquireLock(ws.path('w.lock'), 'first run');
    const controller = new AbortController();
    const waiting = acquireLock(ws.path('w.lock'), 'second run', { signal: controller.signal, pollMs: 5 }).catch((e: unknown) => e);
    controller.abort('SIGINT');
    const error = await waiting;
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(130);
    expect((error as Error).message).toBe(`interrupted while waiting for the workspace lock ${ws.path('w.lock')} (held by pid ${process.pid}, first run); nothing was run`);
    await release();
  });
});
