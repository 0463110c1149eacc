import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// The managed .gitignore block: after a run in a git work tree, `git add -A` stages the pipeline,
// its lock file, mlpipe.yaml and .gitignore, and nothing of runs/ (cache, stat cache, tracker) or
// the shell stages' outs; the user's own lines are never changed.

const PIPELINE = `name: gi
stages:
  prep:
    run: cat data.csv > prepared.csv && mkdir -p out && wc -l < data.csv > out/n.txt
    deps: [data.csv]
    outs: [prepared.csv, out]
  report:
    run: cat out/n.txt > report.txt
    deps: [out]
    outs: [report.txt]
`;

const USER_LINES = '# my own ignores\nnode_modules/\n*.lock\n\n';

const made: Workspace[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((w) => w.cleanup()));
});

const git = async (cwd: string, ...args: string[]): Promise<string> => (await execFileAsync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } })).stdout;

describe('the managed .gitignore block', () => {
  it('ignores runs/ and the shell outs, keeps the lock and the config committable, and is rewritten only when it changes', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'data.csv': 'x\n1\n2\n', '.gitignore': USER_LINES, 'mlpipe.yaml': 'tracker: state/team.db\n' });
    made.push(ws);
    await git(ws.dir, 'init', '-q');

    const first = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.gitignore).toEqual({ path: ws.path('.gitignore'), changed: true });
    const text = await readFile(ws.path('.gitignore'), 'utf8');
    expect(text).toBe(
      `${USER_LINES}# >>> mlpipe: pipeline.yaml (managed by mlpipe run: edits inside are replaced)\n` +
        '/out\n/prepared.csv\n/report.txt\n/runs/\n/state/team.db\n/state/team.db-shm\n/state/team.db-wal\n!/mlpipe.yaml\n!/pipeline.lock\n# <<< mlpipe: pipeline.yaml\n',
    );

    await git(ws.dir, 'add', '-A');
    const staged = (await git(ws.dir, 'diff', '--cached', '--name-only')).trim().split('\n').sort();
    expect(staged).toEqual(['.gitignore', 'data.csv', 'mlpipe.yaml', 'pipeline.lock', 'pipeline.yaml']);
    const ignored = (await git(ws.dir, 'check-ignore', 'runs/cache/stat-cache.json', 'state/team.db', 'out/n.txt', 'prepared.csv')).trim().split('\n');
    expect(ignored).toEqual(['runs/cache/stat-cache.json', 'state/team.db', 'out/n.txt', 'prepared.csv']);

    const again = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.gitignore.changed).toBe(false);
    expect(await readFile(ws.path('.gitignore'), 'utf8')).toBe(text);

    // The user edits around the block and drops a stage: their lines stay, the block follows the spec.
    await writeFile(ws.path('.gitignore'), `${text}dist/\n`);
    await writeFile(ws.path('pipeline.yaml'), PIPELINE.slice(0, PIPELINE.indexOf('  report:')));
    const fewer = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(fewer.code, fewer.stderr).toBe(0);
    expect(fewer.json.gitignore.changed).toBe(true);
    const after = await readFile(ws.path('.gitignore'), 'utf8');
    expect(after.startsWith(USER_LINES)).toBe(true);
    expect(after.endsWith('# <<< mlpipe: pipeline.yaml\ndist/\n')).toBe(true);
    expect(after).not.toContain('/report.txt');
  });

  it('a block with its end marker deleted is left alone, with a warning naming the line; the run succeeds', async () => {
    const broken = 'a\n# >>> mlpipe: pipeline.yaml (managed by mlpipe run: edits inside are replaced)\n/runs/\n';
    const ws = await makeWorkspace({ 'pipeline.yaml': PIPELINE, 'data.csv': 'x\n', '.gitignore': broken });
    made.push(ws);
    const r = await runJson(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.gitignore).toBeUndefined();
    expect(r.stderr).toContain(`warning: the .gitignore of ${ws.dir} was left unchanged: line 2 starts mlpipe's block for pipeline.yaml but no line "# <<< mlpipe: pipeline.yaml" ends it; fix or delete mlpipe's block there and the next run writes it`);
    expect(await readFile(ws.path('.gitignore'), 'utf8')).toBe(broken);
  });
});
