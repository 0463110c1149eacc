import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// prep ── point(x)     six points, each sleeping 1 s; every command appends "START/END x time" to $MLPIPE_TEST_TIMES
const files = {
  'pipeline.yaml': `name: isolated
params:
  x: 1
stages:
  prep:
    run: echo prep >> "$MLPIPE_TEST_TIMES" && mkdir -p out && echo base > out/base.txt
    outs: [out/base.txt]
  point:
    run: node point.mjs \${params.x}
    deps: [point.mjs, out/base.txt]
    outs: [out/result.txt]
    metrics: out/metrics.json
`,
  'point.mjs': `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
const x = process.argv[2];
const log = (what) => appendFileSync(process.env.MLPIPE_TEST_TIMES, \`\${what} \${x} \${Date.now()}\\n\`);
log('START');
await new Promise((r) => setTimeout(r, 1000));
writeFileSync('out/result.txt', \`\${readFileSync('out/base.txt', 'utf8').trim()} x=\${x}\\n\`);
writeFileSync('out/metrics.json', JSON.stringify({ x: Number(x) }));
log('END');
`,
};

/** Every file under `dir` except the state folder, with its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'runs') await walk(p);
      } else out[relative(dir, p)] = await readFile(p, 'utf8');
    }
  };
  await walk(dir);
  return out;
}

interface Span {
  x: string;
  start: number;
  end: number;
}

function spans(log: string): Span[] {
  const by = new Map<string, Partial<Span>>();
  for (const line of log.trim().split('\n')) {
    const [what, x, t] = line.split(' ');
    if (what !== 'START' && what !== 'END') continue;
    const s = by.get(x!) ?? { x };
    if (what === 'START') s.start = Number(t);
    else s.end = Number(t);
    by.set(x!, s);
  }
  return [...by.values()] as Span[];
}

/** The largest number of spans running at one moment. */
function maxOverlap(list: Span[]): number {
  const edges = list.flatMap((s) => [[s.start, 1], [s.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

let ws: Workspace;
let logs: string;
beforeAll(async () => {
  ws = await makeWorkspace(files);
  logs = await mkdtemp(join(tmpdir(), 'mlpipe-times-'));
});
afterAll(async () => {
  await ws.cleanup();
  await rm(logs, { recursive: true, force: true });
});

const grid = ['--sweep', 'params.x=1,2,3,4,5,6'];

describe('isolated sweep points', () => {
  it('runs --jobs 2 points at once in temporary workspaces, leaving the workspace untouched', async () => {
    const before = await snapshot(ws.dir);
    const times = join(logs, 'jobs2.log');
    const { code, json, stderr } = await runJson(['run', 'pipeline.yaml', ...grid, '--jobs', '2'], { cwd: ws.dir, env: { MLPIPE_TEST_TIMES: times } });
    expect(code, stderr).toBe(0);
    expect(json.points.map((p: any) => p.metrics['point.x'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stderr).not.toContain('waiting for another run');
    const log = await readFile(times, 'utf8');
    expect(log.split('\n').filter((l) => l === 'prep')).toHaveLength(1);
    const list = spans(log);
    expect(list).toHaveLength(6);
    expect(maxOverlap(list)).toBe(2);
    expect(await snapshot(ws.dir)).toEqual(before);
    await expect(stat(ws.path('out'))).rejects.toThrow();
  });

  it('runs one point at a time with --jobs 1', async () => {
    const times = join(logs, 'jobs1.log');
    const { code } = await runJson(['run', 'pipeline.yaml', '--sweep', 'params.x=7,8,9', '--jobs', '1'], { cwd: ws.dir, env: { MLPIPE_TEST_TIMES: times } });
    expect(code).toBe(0);
    expect(maxOverlap(spans(await readFile(times, 'utf8')))).toBe(1);
  });

  it('checkout brings a chosen point\'s outputs back byte-identically', async () => {
    const times = join(logs, 'again.log');
    const { json } = await runJson(['run', 'pipeline.yaml', ...grid, '--jobs', '2'], { cwd: ws.dir, env: { MLPIPE_TEST_TIMES: times } });
    expect(json.points.every((p: any) => p.status === 'completed')).toBe(true);
    const third = json.points[2].runId;
    const r = await runJson(['checkout', third], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.runId).toBe(third);
    expect(r.json.restored.map((o: any) => [o.stage, o.output]).sort()).toEqual([
      ['point', 'out/metrics.json'], // a metrics file is an output (issue 15 item 4)
      ['point', 'out/result.txt'],
      ['prep', 'out/base.txt'],
    ]);
    expect(await readFile(ws.path('out/result.txt'), 'utf8')).toBe('base x=3\n');
    expect(await readFile(ws.path('out/base.txt'), 'utf8')).toBe('base\n');
    const human = await runCli(['checkout', json.points[4].runId.slice(0, 9), '--stage', 'point'], { cwd: ws.dir });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('checked out 2 outputs of run'); // out/result.txt and its metrics file
    expect(await readFile(ws.path('out/result.txt'), 'utf8')).toBe('base x=5\n');
  });

  it('says which files an isolated stage lacked when a command reads an undeclared file', async () => {
    const bad = await makeWorkspace({
      'pipeline.yaml': `name: undeclared
params:
  x: 1
stages:
  read:
    run: cat notes.txt > copy.txt
    outs: [copy.txt]
`,
      'notes.txt': 'hello\n',
    });
    try {
      const r = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.x=1,2'], { cwd: bad.dir });
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('list every file the command reads in its deps');
      const plain = await runCli(['run', 'pipeline.yaml'], { cwd: bad.dir });
      expect(plain.code, plain.stderr).toBe(0);
      expect(await readFile(bad.path('copy.txt'), 'utf8')).toBe('hello\n');
    } finally {
      await bad.cleanup();
    }
  });

  it('checkout of an unknown run exits 2 with a hint', async () => {
    const r = await runCli(['checkout', 'r-nope'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run matches "r-nope"');
  });
});
