import { afterEach, describe, expect, it } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { join } from 'node:path';
import { cacheKey } from '../../../src/core/cache/key.js';
import { decodeLock, encodeLock, lockPathOf, lockedMaterial, type LockFile, type LockedStage } from '../../../src/core/lock/lock-file.js';
import { updateLockFile } from '../../../src/core/lock/update-lock.js';
import { lockJsonSchema, renderLockJsonSchema } from '../../../src/core/lock/lock-json-schema.js';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

const hex = (c: string) => c.repeat(64);

/** A locked stage whose key is computed from its contents, as `mlpipe run` writes it. */
function locked(over: Partial<Omit<LockedStage, 'key'>> = {}): LockedStage {
  const entry: Omit<LockedStage, 'key'> = {
    kind: 'shell',
    version: 2,
    params: { lr: 0.01 },
    deps: { 'data/in.csv': { digest: hex('a'), size: 10 } },
    upstream: {},
    outs: { 'out/m.json': { location: 'workspace', path: 'out/m.json', digest: hex('b'), size: 5 } },
    metrics: { accuracy: 0.9666666666666667 },
    config: { run: 'train --lr 0.01', deps: ['data/in.csv'], outs: ['out/m.json'], env: {} },
    ...over,
  };
  return { ...entry, key: cacheKey(lockedMaterial({ ...entry, key: '' })) };
}

const lockOf = (stages: Record<string, LockedStage>): LockFile => ({ schemaVersion: 1, pipeline: 'p', stages });

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('lock file format', () => {
  it('is named after the spec', () => {
    expect(lockPathOf('/w/pipelines/iris/pipeline.yaml')).toBe('/w/pipelines/iris/pipeline.lock');
    expect(lockPathOf('/w/train.yml')).toBe('/w/train.lock');
    expect(lockPathOf('/w/spec')).toBe('/w/spec.lock');
  });

  it('writes equal content as equal bytes whatever the order things were added in, and reads back what it wrote', () => {
    const a = locked();
    const reordered: LockedStage = JSON.parse(JSON.stringify({ ...a, config: { env: {}, outs: a.config.outs, deps: a.config.deps, run: a.config.run }, metrics: a.metrics }));
    const one = encodeLock(lockOf({ train: a, prep: locked({ params: {} }) }), 'pipeline.yaml');
    const two = encodeLock(lockOf({ prep: locked({ params: {} }), train: reordered }), 'pipeline.yaml');
    expect(two).toBe(one);
    expect(one.indexOf('  prep:')).toBeLessThan(one.indexOf('  train:'));
    const decoded = decodeLock(one, 'pipeline.lock');
    expect(decoded.problems).toEqual([]);
    expect(decoded.lock?.stages.train).toEqual(a);
    expect(encodeLock(decoded.lock!, 'pipeline.yaml')).toBe(one);
  });

  it('keeps values YAML would misread as other types (digits-only strings, yes/no, multi-line commands) round-tripping', () => {
    const tricky = locked({ params: { tag: '0123', flag: 'yes', n: 1e-7 }, config: { run: 'echo a\nfalse\necho "b: c"', deps: [], outs: ['out/m.json'], env: { X: '007' } }, deps: {} });
    const decoded = decodeLock(encodeLock(lockOf({ s: tricky }), 'p.yaml'), 'p.lock');
    expect(decoded.problems).toEqual([]);
    expect(decoded.lock?.stages.s).toEqual(tricky);
  });

  it('drops an entry whose key does not match its contents (edited by hand), naming its line, and keeps the others', () => {
    const text = encodeLock(lockOf({ prep: locked({ params: {} }), train: locked() }), 'pipeline.yaml').replace('lr: 0.01', 'lr: 0.02');
    const decoded = decodeLock(text, 'pipeline.lock');
    expect(Object.keys(decoded.lock!.stages)).toEqual(['prep']);
    expect(decoded.problems).toHaveLength(1);
    expect(decoded.problems[0]).toMatch(/^pipeline\.lock:\d+:\d+ stages\.train\.key does not match the entry's contents/);
  });

  it('ignores a file with merge-conflict markers, another format version, or a wrong shape, saying why', () => {
    const text = encodeLock(lockOf({ train: locked() }), 'pipeline.yaml');
    const conflicted = text.replace('    version: 2\n', '<<<<<<< HEAD\n    version: 2\n=======\n    version: 3\n>>>>>>> theirs\n');
    const c = decodeLock(conflicted, 'pipeline.lock');
    expect(c.lock).toBeUndefined();
    expect(c.problems[0]).toMatch(/^pipeline\.lock:\d+:\d+ cannot be read .*merge conflict/);
    const v2 = decodeLock(text.replace('schemaVersion: 1', 'schemaVersion: 2'), 'pipeline.lock');
    expect(v2.lock).toBeUndefined();
    expect(v2.problems[0]).toContain('schemaVersion 2');
    const shape = decodeLock('schemaVersion: 1\npipeline: p\nstages: [a]\n', 'pipeline.lock');
    expect(shape.lock).toBeUndefined();
    expect(shape.problems[0]).toMatch(/^pipeline\.lock:3:9 stages: expected/);
    const field = decodeLock(text.replace(/    key: [0-9a-f]+/, '    key: 12'), 'pipeline.lock');
    expect(field.lock?.stages).toEqual({});
    expect(field.problems[0]).toMatch(/stages\.train\.key: expected .*the entry of stage train is ignored/);
  });
});

describe('schema/lock.schema.json', () => {
  it('is generated from the declarations the reader validates with, and accepts what mlpipe writes', () => {
    expect(readFileSync(new URL('../../../schema/lock.schema.json', import.meta.url), 'utf8')).toBe(renderLockJsonSchema());
    const validate = new Ajv({ strict: false }).compile(lockJsonSchema());
    expect(validate(parse(encodeLock(lockOf({ train: locked() }), 'pipeline.yaml')))).toBe(true);
    expect(validate(parse(encodeLock(lockOf({ train: { ...locked(), key: 'short' } }), 'pipeline.yaml')))).toBe(false);
  });
});

describe('updateLockFile', () => {
  const spec = (dir: string, stages: string[]) => ({ file: join(dir, 'pipeline.yaml'), name: 'p', stages: Object.fromEntries(stages.map((s) => [s, {}])) as never });

  it('replaces the entries of the stages given, keeps the others, drops stages no longer in the spec, and leaves equal bytes alone', async () => {
    ws = await makeWorkspace();
    const runsDir = ws.path('runs');
    const first = await updateLockFile(spec(ws.dir, ['prep', 'train', 'old']), { prep: locked({ params: {} }), train: locked(), old: locked({ params: { x: 1 } }) }, { runsDir });
    expect(first).toEqual({ path: ws.path('pipeline.lock'), changed: true });
    const newer = locked({ params: { lr: 0.1 } });
    const second = await updateLockFile(spec(ws.dir, ['prep', 'train']), { train: newer }, { runsDir });
    expect(second.changed).toBe(true);
    const decoded = decodeLock(await readFile(ws.path('pipeline.lock'), 'utf8'), 'pipeline.lock');
    expect(decoded.lock!.stages).toEqual({ prep: locked({ params: {} }), train: newer });
    const mtime = (await stat(ws.path('pipeline.lock'))).mtimeMs;
    expect(await updateLockFile(spec(ws.dir, ['prep', 'train']), { train: newer }, { runsDir })).toMatchObject({ changed: false });
    expect((await stat(ws.path('pipeline.lock'))).mtimeMs).toBe(mtime);
  });

  it('rewrites an unreadable lock file, warning about it', async () => {
    ws = await makeWorkspace({ 'pipeline.lock': '<<<<<<< HEAD\nx: [\n' });
    const warnings: string[] = [];
    await updateLockFile(spec(ws.dir, ['train']), { train: locked() }, { runsDir: ws.path('runs'), onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(decodeLock(await readFile(ws.path('pipeline.lock'), 'utf8'), 'pipeline.lock').lock!.stages).toEqual({ train: locked() });
  });

  it('two writers at once lose neither entry', async () => {
    ws = await makeWorkspace();
    await writeFile(ws.path('pipeline.yaml'), '');
    const both = spec(ws.dir, ['a', 'b']);
    await Promise.all([updateLockFile(both, { a: locked({ params: {} }) }, { runsDir: ws.path('runs') }), updateLockFile(both, { b: locked() }, { runsDir: ws.path('runs') })]);
    expect(Object.keys(decodeLock(await readFile(ws.path('pipeline.lock'), 'utf8'), 'pipeline.lock').lock!.stages)).toEqual(['a', 'b']);
  });
});
