import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 15 item 14: a stage re-run under an identical cache key (--force) whose outputs differ from
// the stored entry is reported once, recorded on the run, and the entry holds the newest outputs.
let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace({
    'draw.mjs': "import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('out', { recursive: true });\nwriteFileSync('out/draw.txt', String(Math.random()));\n",
    'pipeline.yaml': `name: nondet
stages:
  draw:
    run: node draw.mjs
    deps: [draw.mjs]
    outs: [out/draw.txt]
  fixed:
    run: echo same > fixed.txt
    outs: [fixed.txt]
`,
  });
});
afterAll(async () => ws.cleanup());

const stageOf = (json: any, name: string) => json.stages.find((s: any) => (s.name ?? s.stage) === name);

describe('nondeterministic stages', () => {
  it('--force: one warning naming the file, the stage flagged in run --json and runs show; the newest output is the entry', async () => {
    const first = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('nondeterministic');
    const forced = await runJson(['run', 'pipeline.yaml', '--force'], { cwd: ws.dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr.match(/nondeterministic/g)).toHaveLength(1);
    expect(forced.stderr).toContain(`warning: stage draw is nondeterministic: it ran again with an identical cache key and wrote different content to out/draw.txt (the entry of run ${first.json.runId} had other content)`);
    expect(stageOf(forced.json, 'draw').nondeterministic).toEqual({ previousRunId: first.json.runId, files: ['out/draw.txt'] });
    expect(stageOf(forced.json, 'fixed')).not.toHaveProperty('nondeterministic');

    const shown = await runJson(['runs', 'show', forced.json.runId], { cwd: ws.dir });
    expect(stageOf(shown.json, 'draw').nondeterministic).toEqual({ previousRunId: first.json.runId, files: ['out/draw.txt'] });
    const text = await runCli(['runs', 'show', forced.json.runId], { cwd: ws.dir });
    expect(text.stdout).toContain(`draw: ran with the same cache key as run ${first.json.runId} and wrote different files: out/draw.txt`);

    const drawn = await readFile(ws.path('out/draw.txt'), 'utf8');
    await rm(ws.path('out'), { recursive: true });
    const restored = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(stageOf(restored.json, 'draw')).toMatchObject({ cached: true, cachedFrom: forced.json.runId });
    expect(await readFile(ws.path('out/draw.txt'), 'utf8')).toBe(drawn);
    expect(restored.stderr).not.toContain('nondeterministic');
  });
});
