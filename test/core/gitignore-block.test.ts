import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gitignorePattern, GitignoreBlockError, renderGitignoreBlock, replaceGitignoreBlock } from '../../src/core/workspace/gitignore-block.js';
import { gitignoreEntries, updateGitignore } from '../../src/core/workspace/update-gitignore.js';
import { loadIn } from '../helpers/spec-run.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

const BLOCK = renderGitignoreBlock('pipeline.yaml', { ignore: ['runs/', 'out/model.bin'], keep: ['pipeline.lock'] });

describe('the managed .gitignore block (text)', () => {
  it('renders sorted, anchored, escaped patterns between markers, keeps after ignores', () => {
    expect(renderGitignoreBlock('ml/pipeline.yaml', { ignore: ['runs/', 'ml/b.csv', 'ml/a b[1].csv', 'ml/b.csv', '#x', 'ml/*.tmp'], keep: ['ml/pipeline.lock', 'mlpipe.yaml'] })).toEqual([
      '# >>> mlpipe: ml/pipeline.yaml (managed by mlpipe run: edits inside are replaced)',
      '/\\#x',
      '/ml/\\*.tmp',
      '/ml/a b\\[1\\].csv',
      '/ml/b.csv',
      '/runs/',
      '!/ml/pipeline.lock',
      '!/mlpipe.yaml',
      '# <<< mlpipe: ml/pipeline.yaml',
    ]);
    expect(gitignorePattern('trailing ')).toBe('/trailing\\ ');
    expect(gitignorePattern('!important')).toBe('/\\!important');
  });

  it('appends to a file, then replaces only its own block in place: user lines before and after stay byte for byte', () => {
    const user = 'node_modules/\n# my comment\n\n*.log';
    const first = replaceGitignoreBlock(user, 'pipeline.yaml', BLOCK);
    expect(first).toBe(`node_modules/\n# my comment\n\n*.log\n${BLOCK.join('\n')}\n`);
    expect(replaceGitignoreBlock(first, 'pipeline.yaml', BLOCK)).toBe(first);

    const edited = `${first}dist/\n`;
    const other = renderGitignoreBlock('pipeline.yaml', { ignore: ['runs/'], keep: [] });
    expect(replaceGitignoreBlock(edited, 'pipeline.yaml', other)).toBe(`node_modules/\n# my comment\n\n*.log\n${other.join('\n')}\ndist/\n`);
    expect(replaceGitignoreBlock(edited, 'pipeline.yaml', undefined)).toBe('node_modules/\n# my comment\n\n*.log\ndist/\n');
  });

  it('keeps blocks of other specs, CRLF line endings, and drops a duplicate of its own block', () => {
    const theirs = renderGitignoreBlock('other.yaml', { ignore: ['x'], keep: [] });
    const crlf = `a\r\n${theirs.join('\r\n')}\r\n`;
    const out = replaceGitignoreBlock(crlf, 'pipeline.yaml', BLOCK);
    expect(out).toBe(`a\r\n${theirs.join('\r\n')}\r\n${BLOCK.join('\r\n')}\r\n`);
    const twice = `${BLOCK.join('\n')}\nb\n${BLOCK.join('\n')}\n`;
    expect(replaceGitignoreBlock(twice, 'pipeline.yaml', BLOCK)).toBe(`${BLOCK.join('\n')}\nb\n`);
    expect(replaceGitignoreBlock('', 'pipeline.yaml', undefined)).toBe('');
  });

  it('refuses a block whose end marker is gone, naming the line', () => {
    const broken = `a\n${BLOCK.slice(0, -1).join('\n')}\nb\n`;
    expect(() => replaceGitignoreBlock(broken, 'pipeline.yaml', BLOCK)).toThrowError(GitignoreBlockError);
    expect(() => replaceGitignoreBlock(broken, 'pipeline.yaml', BLOCK)).toThrowErrorMatchingInlineSnapshot(`[GitignoreBlockError: line 2 starts mlpipe's block for pipeline.yaml but no line "# <<< mlpipe: pipeline.yaml" ends it]`);
  });
});

const SPEC = `name: g
stages:
  prep:
    run: echo hi > prepared.csv && mkdir -p out && echo 1 > out/n.txt
    deps: [data.csv]
    outs: [prepared.csv, out]
`;

const made: Workspace[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((w) => w.cleanup()));
});

describe('updateGitignore', () => {
  it('lists the state folder, shell outs relative to the project root, an SQLite tracker outside it, and keeps the lock and mlpipe.yaml', async () => {
    const ws = await makeWorkspace({ 'mlpipe.yaml': 'autopush: false\n', 'ml/pipeline.yaml': SPEC, 'ml/data.csv': 'x\n1\n' });
    made.push(ws);
    const spec = await loadIn(ws, 'ml/pipeline.yaml');
    expect(spec.root).toBe(ws.dir);
    expect(gitignoreEntries(spec, { runsDir: ws.path('runs'), tracker: ws.path('state/team.db') })).toEqual({
      ignore: ['runs/', 'state/team.db', 'state/team.db-wal', 'state/team.db-shm', 'ml/prepared.csv', 'ml/out'],
      keep: ['ml/pipeline.lock', 'mlpipe.yaml'],
    });
    expect(gitignoreEntries(spec, { runsDir: '/elsewhere/runs', tracker: 'postgresql://u@h/db' })).toEqual({ ignore: ['ml/prepared.csv', 'ml/out'], keep: ['ml/pipeline.lock', 'mlpipe.yaml'] });
    expect(gitignoreEntries(spec, { runsDir: ws.path('runs'), tracker: ws.path('runs/tracker.db') }).ignore).toEqual(['runs/', 'ml/prepared.csv', 'ml/out']);
  });

  it('writes nothing outside git without a .gitignore; with one, writes the block once and leaves an unchanged file alone', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'data.csv': 'x\n1\n' });
    made.push(ws);
    const spec = await loadIn(ws);
    const opts = { runsDir: ws.path('runs'), tracker: ws.path('runs/tracker.db') };
    expect(await updateGitignore(spec, opts)).toBeUndefined();
    expect(existsSync(ws.path('.gitignore'))).toBe(false);

    await writeFile(ws.path('.gitignore'), '*.log\n');
    expect(await updateGitignore(spec, opts)).toEqual({ path: ws.path('.gitignore'), changed: true });
    const text = await readFile(ws.path('.gitignore'), 'utf8');
    expect(text).toBe('*.log\n# >>> mlpipe: pipeline.yaml (managed by mlpipe run: edits inside are replaced)\n/out\n/prepared.csv\n/runs/\n!/pipeline.lock\n# <<< mlpipe: pipeline.yaml\n');
    expect(await updateGitignore(spec, opts)).toEqual({ path: ws.path('.gitignore'), changed: false });
    expect(await readFile(ws.path('.gitignore'), 'utf8')).toBe(text);
  });

  it('in a git work tree, creates the .gitignore', async () => {
    const ws = await makeWorkspace({ 'pipeline.yaml': SPEC, 'data.csv': 'x\n1\n' });
    made.push(ws);
    await mkdir(ws.path('.git'));
    const spec = await loadIn(ws);
    expect((await updateGitignore(spec, { runsDir: ws.path('runs') }))?.changed).toBe(true);
    expect(await readFile(ws.path('.gitignore'), 'utf8')).toContain('\n/runs/\n');
  });
});
