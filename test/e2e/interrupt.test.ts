import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliPath, runJson } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// fast ── slow      (slow waits until it is killed; `fast` completes first)
const spec = `name: halting
stages:
  fast:
    run: mkdir -p out && echo done > out/fast.txt
    outs: [out/fast.txt]
  slow:
    run: echo started > started.flag && sleep 30 && mkdir -p out && echo slow > out/slow.txt
    needs: [fast]
    outs: [out/slow.txt]
    cache: true
`;

let ws: Workspace;
afterEach(async () => ws?.cleanup());

async function startRunUntilSlowStarts(): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, [cliPath, 'run', 'pipeline.yaml'], { cwd: ws.dir, env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
  await waitFor('the slow stage to start', () => existsSync(ws.path('started.flag')));
  return child;
}

const exitOf = (child: ReturnType<typeof spawn>) => new Promise<number | null>((r) => child.on('close', (code) => r(code)));

function runRows() {
  const db = new Database(join(ws.dir, 'runs', 'tracker.db'), { readonly: true });
  const rows = db.prepare('select id, status from runs order by started_at').all() as { id: string; status: string }[];
  const stages = db.prepare('select run_id, stage, status from stage_runs order by stage').all() as { run_id: string; stage: string; status: string }[];
  db.close();
  return { rows, stages };
}

describe('interrupted runs', () => {
  it('SIGINT stops the running stage, marks the run interrupted and exits 130', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    const child = await startRunUntilSlowStarts();
    const exited = exitOf(child);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const { rows, stages } = runRows();
    expect(rows.map((r) => r.status)).toEqual(['interrupted']);
    expect(stages.map((s) => [s.stage, s.status])).toEqual([
      ['fast', 'completed'],
      ['slow', 'interrupted'],
    ]);
    expect(existsSync(ws.path('out/slow.txt'))).toBe(false);
  });

  it('a run whose process was killed is marked interrupted at the next start, which reuses completed stages', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec.replace('sleep 30 &&', 'sleep ${SLEEP:-30} &&') });
    const child = await startRunUntilSlowStarts();
    const exited = exitOf(child);
    child.kill('SIGKILL');
    await exited;
    const next = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir, env: { SLEEP: '0' } });
    expect(next.code).toBe(0);
    expect(next.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['fast', true],
      ['slow', false],
    ]);
    const { rows } = runRows();
    expect(rows.map((r) => r.status)).toEqual(['interrupted', 'completed']);
  });
});
