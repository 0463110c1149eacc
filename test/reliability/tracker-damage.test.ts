import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { isRoot, killHard, NOBODY, runAsUser, startCli, waitFor } from './harness.js';

// Issue 14 items 6 and 7: a damaged tracker was shown as data with exit 0; a run row lost with the WAL
// left cache entries of a run that does not exist, unsaid; on a read-only runs folder every read
// command failed ("unable to open database file; move the file aside").

const sh = promisify(execFile);
let ws: Workspace | undefined;
afterEach(async () => {
  if (ws) {
    await sh('chmod', ['-R', 'u+rwX', ws.dir]);
    await ws.cleanup();
  }
  ws = undefined;
});

const spec = `name: damage
stages:
  one:
    run: echo one > one.txt
    outs: [one.txt]
  two:
    # the loop also ends when the workspace is removed: the SIGKILLed run below leaves this command orphaned
    run: cat one.txt > two.txt && touch started && while [ ! -e RELEASE ] && [ -e pipeline.yaml ]; do sleep 0.1; done
    needs: [one]
    outs: [two.txt]
`;

/** Breaks the page header of a table's root page in the database file (past the file header: SQLite still opens it). */
function breakTable(db: string, table: string): void {
  const sqlite = new Database(db, { readonly: true });
  const { rootpage } = sqlite.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').get(table) as { rootpage: number };
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  sqlite.close();
  const fd = openSync(db, 'r+');
  const at = (rootpage - 1) * pageSize + (rootpage === 1 ? 100 : 0);
  writeSync(fd, Buffer.from([0x01]), 0, 1, at);
  closeSync(fd);
}


describe('a damaged tracker (issue 14.6)', () => {
  it('after an unclean shutdown, quick_check refuses a damaged file with what to do; cache verify reports it', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, RELEASE: '' });
    expect((await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir })).code).toBe(0);
    breakTable(ws.path('runs/tracker.db'), 'models');
    const listed = await runCli(['runs', 'list'], { cwd: ws.dir });
    expect(listed.code, 'a clean shutdown is not checked at open').toBe(0);

    const verify = await runJson<{ ok: boolean; problems: { kind: string; id: string; detail: string }[] }>(['cache', 'verify'], { cwd: ws.dir });
    expect(verify.code).toBe(1);
    expect(verify.json.problems).toEqual([{ kind: 'tracker', id: ws.path('runs/tracker.db'), detail: expect.stringMatching(/page|btree|malformed/i) }]);

    await sh('rm', [ws.path('RELEASE'), ws.path('started')]);
    const killed = startCli(['run', 'pipeline.yaml', '--force'], ws.dir);
    await waitFor('the second stage to run', () => existsSync(ws!.path('started')), killed);
    await killHard(killed);
    expect(statSync(ws.path('runs/tracker.db-wal')).size).toBeGreaterThan(0);

    const after = await runCli(['runs', 'list'], { cwd: ws.dir });
    expect(after.code).toBe(2);
    expect(after.stderr).toContain(`Error: the tracker ${ws.path('runs/tracker.db')} is damaged: `);
    expect(after.stderr).toContain(`Hint: keep a copy, then recover what SQLite can read: sqlite3 ${ws.path('runs/tracker.db')} .recover | sqlite3 recovered.db`);
    expect(after.stderr).not.toMatch(/\n\s+at /);
  });

  it('cache verify names the cache entries of a run whose record was lost', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, RELEASE: '' });
    const first = await runJson<{ runId: string }>(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code).toBe(0);
    const sqlite = new Database(ws.path('runs/tracker.db'));
    sqlite.pragma('foreign_keys = OFF');
    for (const table of ['metrics', 'stage_runs', 'artifacts']) sqlite.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(first.json.runId);
    sqlite.prepare('DELETE FROM runs WHERE id = ?').run(first.json.runId);
    sqlite.close();
    const verify = await runJson<{ problems: { kind: string; detail: string }[] }>(['cache', 'verify'], { cwd: ws.dir });
    expect(verify.code).toBe(1);
    expect(verify.json.problems.map((p) => [p.kind, p.detail])).toEqual(
      Array.from({ length: 2 }, () => ['unknown-run', `made by run ${first.json.runId}, which the tracker does not hold (its record was lost); the entry still restores, but no kept run keeps it through gc`]),
    );
  });
});

describe('a read-only runs folder (issue 14.7)', () => {
  it('runs list, runs show, status and cache verify work; run says the folder cannot be written', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, RELEASE: '' });
    const first = await runJson<{ runId: string }>(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code).toBe(0);
    if (isRoot) await sh('chown', ['-R', `${NOBODY}:${NOBODY}`, ws.dir]);
    await sh('chmod', ['-R', 'a-w', ws.path('runs')]);
    for (const args of [['runs', 'list', '--json'], ['runs', 'show', first.json.runId, '--json'], ['status', 'pipeline.yaml', '--json'], ['cache', 'verify', '--json']]) {
      const r = await runAsUser(args, ws.dir);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).not.toContain('move the file aside');
    }
    const status = await runAsUser(['status', 'pipeline.yaml', '--json'], ws.dir);
    expect(JSON.parse(status.stdout).stages.map((s: { action: string }) => s.action)).toEqual(['restore', 'restore']);
    const run = await runAsUser(['run', 'pipeline.yaml'], ws.dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Error: cannot write to the runs folder ${ws.path('runs')}: permission denied (EACCES)`);
  });
});
