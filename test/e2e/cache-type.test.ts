import { readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { openLocalStore } from '../../src/core/store/local-store.js';

// Issue 15 item 6: mlpipe.yaml `cache: { type: [...] }` (DVC's cache.type): workspace outs restored
// from the cache can be hard links to the cache object; a stage that then writes its out in place
// (`>` truncates the file it finds) must never write through the link into the cache.

// The command writes out.txt in place: were the hard-linked out not removed first, it would write into the cache object.
const spec = `name: linked
params:
  tag: one
stages:
  make:
    run: echo "made with \${params.tag}" > out.txt
    outs: [out.txt]
`;

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

async function run(tag: string): Promise<{ cached: boolean; digest: string }> {
  const r = await runJson(['run', 'pipeline.yaml', '--set', `params.tag=${tag}`], { cwd: ws!.dir });
  expect(r.code, r.stderr).toBe(0);
  return { cached: r.json.stages[0].cached, digest: r.json.artifacts.find((a: any) => a.stage === 'make').digest };
}

const inode = async (path: string) => (await stat(path)).ino;

describe('cache.type in mlpipe.yaml', () => {
  it('hardlink: a restored out is the cache object (same inode, read-only); re-running with other params leaves the object intact and cache verify passes', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, 'mlpipe.yaml': 'cache:\n  type: [hardlink, copy]\n' });
    const one = await run('one');
    await run('two');
    const restored = await run('one');
    expect(restored).toEqual({ cached: true, digest: one.digest });
    const object = openLocalStore(ws.path('runs')).objectPath(one.digest);
    expect(await inode(ws.path('out.txt'))).toBe(await inode(object));
    expect((await stat(ws.path('out.txt'))).mode & 0o222).toBe(0);

    // other params: the stage runs and writes out.txt in place; the linked object must not change
    const three = await run('three');
    expect(three.cached).toBe(false);
    expect(await readFile(ws.path('out.txt'), 'utf8')).toBe('made with three\n');
    expect(await inode(ws.path('out.txt'))).not.toBe(await inode(object));
    expect(await readFile(object, 'utf8')).toBe('made with one\n');
    const verify = await runCli(['cache', 'verify'], { cwd: ws.dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect((await run('one')).cached).toBe(true);
    expect(await readFile(ws.path('out.txt'), 'utf8')).toBe('made with one\n');
  });

  it('default (reflink, copy): a restored out is a file of its own, writable', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec });
    const one = await run('one');
    await run('two');
    expect((await run('one')).cached).toBe(true);
    const object = openLocalStore(ws.path('runs')).objectPath(one.digest);
    expect(await inode(ws.path('out.txt'))).not.toBe(await inode(object));
    expect((await stat(ws.path('out.txt'))).mode & 0o200).toBe(0o200);
  });

  it('a bad cache.type is a config error naming the file and the allowed values (exit 2)', async () => {
    ws = await makeWorkspace({ 'pipeline.yaml': spec, 'mlpipe.yaml': 'cache:\n  type: [symlinks]\n' });
    const r = await runCli(['run', 'pipeline.yaml'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mlpipe.yaml');
    expect(r.stderr).toMatch(/reflink.*hardlink.*copy/);
  });
});
