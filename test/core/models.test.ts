import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/core/tracker/open-tracker.js';
import type { Tracker } from '../../src/core/tracker/types.js';
import { formatModelRef, parseModelRef } from '../../src/app/models/model-ref.js';
import { modelDir, resolveModel } from '../../src/app/models/resolve-model.js';
import { promoteModel, rollbackModel } from '../../src/app/models/aliases.js';
import { keyMetrics, listModelItems } from '../../src/app/models/model-views.js';
import { renderAliasMove, renderModelList } from '../../src/render/models.js';
import { renderPredictions } from '../../src/app/models/prediction-output.js';
import { UserError } from '../../src/errors.js';

let runsDir: string;
let tracker: Tracker;

const register = (name: string, hash: string, metrics: Record<string, number> = {}) =>
  tracker.registerModel({ name, runId: `r-${hash}`, stage: 'deploy', artifactHash: hash, path: join(runsDir, 'models', name, hash), metrics });

beforeEach(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'mlpipe-models-'));
  tracker = await openTracker(runsDir);
});
afterEach(async () => {
  await tracker.close();
  await rm(runsDir, { recursive: true, force: true });
});

describe('parseModelRef', () => {
  it('reads NAME, NAME@VERSION (with or without v) and NAME@ALIAS', async () => {
    expect(parseModelRef('iris')).toEqual({ name: 'iris', selector: { kind: 'latest' }, text: 'iris' });
    expect(parseModelRef('iris@3').selector).toEqual({ kind: 'version', version: 3 });
    expect(parseModelRef('iris@v12').selector).toEqual({ kind: 'version', version: 12 });
    expect(parseModelRef('sms-spam.v2@production').selector).toEqual({ kind: 'alias', alias: 'production' });
    expect(['iris', 'iris@3', 'iris@staging'].map((t) => formatModelRef(parseModelRef(t)))).toEqual(['iris', 'iris@3', 'iris@staging']);
  });

  it('rejects malformed references with the expected forms', async () => {
    expect(() => parseModelRef('@prod')).toThrowErrorMatchingInlineSnapshot(`[InvalidModelRefError: invalid model reference "@prod": the model name is missing]`);
    expect(() => parseModelRef('iris@')).toThrowErrorMatchingInlineSnapshot(`[InvalidModelRefError: invalid model reference "iris@": nothing follows "@"]`);
    expect(() => parseModelRef('iris@0')).toThrowErrorMatchingInlineSnapshot(`[InvalidModelRefError: invalid model reference "iris@0": version 0 is not a positive integer]`);
    expect(() => parseModelRef('ir is')).toThrow('the name "ir is" may hold only letters, digits, "_", "." and "-"');
    expect(() => parseModelRef('iris@a/b')).toThrow('the alias "a/b" may hold only');
    const err = (() => {
      try {
        parseModelRef('iris@');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).hint).toContain('NAME@VERSION (e.g. iris@3)');
  });
});

describe('resolveModel', () => {
  it('finds the newest version, a version and an alias holder', async () => {
    await register('iris', 'a');
    await register('iris', 'b');
    await tracker.setAlias('iris', 'production', 1);
    expect((await resolveModel(tracker, parseModelRef('iris'))).version).toBe(2);
    expect((await resolveModel(tracker, parseModelRef('iris@1'))).artifactHash).toBe('a');
    expect((await resolveModel(tracker, parseModelRef('iris@production'))).version).toBe(1);
  });

  it('lists what exists when nothing matches', async () => {
    await expect(resolveModel(tracker, parseModelRef('iris'))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ModelNotFoundError: no registered model matches "iris": no model is registered yet; a pipeline's deploy stage registers one (mlpipe run pipeline.yaml)]`,
    );
    await register('iris', 'a');
    await register('iris', 'b');
    await register('spam', 'c');
    await tracker.setAlias('iris', 'production', 2);
    await tracker.setAlias('iris', 'staging', 2);
    await expect(resolveModel(tracker, parseModelRef('iris@9'))).rejects.toThrowErrorMatchingInlineSnapshot(`[ModelNotFoundError: no registered model matches "iris@9": iris has v2 (production, staging), v1]`);
    await expect(resolveModel(tracker, parseModelRef('iris@canary'))).rejects.toThrow('no registered model matches "iris@canary": iris has v2 (production, staging), v1');
    await expect(resolveModel(tracker, parseModelRef('irs@production'))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ModelNotFoundError: no registered model matches "irs@production": there is no model named irs; registered: iris, spam]`,
    );
  });

  it("finds the files in the runs folder's own models/NAME/VERSION first, else at the registered path", async () => {
    const m = await register('iris', 'a');
    const own = join(runsDir, 'models', 'iris', '1');
    expect(() => modelDir(runsDir, m)).toThrow(`iris v1 is registered but its files are missing (looked in ${own} and ${m.path})`);
    await mkdir(m.path, { recursive: true });
    await writeFile(join(m.path, 'model.json'), '{}');
    expect(modelDir(runsDir, m)).toBe(m.path);
    await mkdir(own, { recursive: true });
    await writeFile(join(own, 'model.json'), '{}');
    expect(modelDir(runsDir, m)).toBe(own);
    expect(modelDir(runsDir, { ...m, path: 'models/iris/1' })).toBe(own);
  });
});

describe('promote and rollback', () => {
  it('moves an alias, reports the previous holder, and rolls back through its history', async () => {
    for (const h of ['a', 'b', 'c']) await register('iris', h);
    expect(await promoteModel(tracker, parseModelRef('iris@1'), 'production')).toEqual({ schemaVersion: 1, name: 'iris', alias: 'production', version: 1, previous: null, changed: true });
    expect(await promoteModel(tracker, parseModelRef('iris@3'), 'production')).toMatchObject({ version: 3, previous: 1, changed: true });
    expect(await promoteModel(tracker, parseModelRef('iris@production'), 'staging')).toMatchObject({ alias: 'staging', version: 3, previous: null });
    const same = await promoteModel(tracker, parseModelRef('iris@3'), 'production');
    expect(same).toMatchObject({ version: 3, previous: 3, changed: false });
    expect(renderAliasMove(same, 'promoted')).toBe('iris@production already points at v3; nothing changed\n');
    const back = await rollbackModel(tracker, 'iris', 'production');
    expect(back).toEqual({ schemaVersion: 1, name: 'iris', alias: 'production', version: 1, previous: 3, changed: true });
    expect(renderAliasMove(back, 'rolled back')).toBe('rolled back: iris@production → v1 (was v3)\n');
    expect((await tracker.getModel('iris', 'production'))!.version).toBe(1);
    await expect(rollbackModel(tracker, 'iris', 'production')).rejects.toThrowErrorMatchingInlineSnapshot(`[NoAliasHistoryError: cannot roll back iris@production: v1 is the only version that has held it]`);
  });

  it('refuses unknown versions, aliases that read as versions, and rollbacks of unset aliases', async () => {
    await register('iris', 'a');
    await expect(promoteModel(tracker, parseModelRef('iris@4'), 'production')).rejects.toThrow('no registered model matches "iris@4": iris has v1');
    await expect(promoteModel(tracker, parseModelRef('iris@1'), 'v2')).rejects.toThrow('invalid --alias "v2": it would read as a version number');
    await expect(promoteModel(tracker, parseModelRef('iris@1'), 'latest')).rejects.toThrow('"latest" always means the newest version');
    await tracker.setAlias('iris', 'staging', 1);
    await expect(rollbackModel(tracker, 'iris', 'production')).rejects.toThrowErrorMatchingInlineSnapshot(`[NoAliasHistoryError: cannot roll back iris@production: iris has no alias "production"; aliases of iris: staging → v1]`);
    await expect(rollbackModel(tracker, 'nope', 'production')).rejects.toThrow('no registered model matches "nope"');
  });
});

describe('listing', () => {
  it('lists versions by name, newest first, with aliases and up to three key metrics', async () => {
    await register('spam', 'x', { accuracy: 0.9, auc: 0.95, f1: 0.8, loss: 0.3, 'evaluate.accuracy': 0.9 });
    await register('iris', 'a', { r2: 0.5, rmse: 1.2, best_epoch: 3 });
    await register('iris', 'b', {});
    await tracker.setAlias('iris', 'production', 1);
    const items = await listModelItems(tracker);
    expect(items.map((m) => [m.name, m.version, m.aliases, m.keyMetrics])).toEqual([
      ['iris', 2, [], {}],
      ['iris', 1, ['production'], { r2: 0.5, rmse: 1.2 }],
      ['spam', 1, [], { accuracy: 0.9, f1: 0.8, auc: 0.95 }],
    ]);
    expect(await listModelItems(tracker, 'spam')).toHaveLength(1);
    expect(keyMetrics({ mse: 1, mae: 2, loss: 3, r2: 4 })).toEqual({ r2: 4, mae: 2, mse: 1 });
    const text = renderModelList(items).split('\n');
    expect(text[0]).toMatch(/^NAME\s+VERSION\s+ALIASES\s+RUN\s+METRICS\s+CREATED$/);
    expect(text[2]).toMatch(/^iris\s+v1\s+production\s+r-a\s+r2=0\.5 rmse=1\.2\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(renderModelList([])).toBe("no models registered yet; a pipeline's deploy stage registers one: mlpipe run pipeline.yaml\n");
    expect(renderModelList([], { name: 'iris' })).toBe('no versions of iris are registered; list every model with: mlpipe models list\n');
  });
});

describe('renderPredictions', () => {
  const columns = ['a', 'predicted', 'note'];
  const rows = [[1, 'x', 'hello, "world"'], ['2', 'y', null]];
  const cls = [
    { label: 'no', probabilities: { no: 0.123456789, yes: 0.876543211 } },
    { label: 'yes', probabilities: { no: 0.4, yes: 0.6 } },
  ];

  it('csv: the source row, the input columns, then predicted and p_<label> to 7 digits; a taken name gets a leading _', () => {
    expect(renderPredictions('csv', columns, rows, cls, ['no', 'yes'])).toBe(
      'row,a,predicted,note,_predicted,p_no,p_yes\n1,1,x,"hello, ""world""",no,0.1234568,0.8765432\n2,2,y,,yes,0.4,0.6\n',
    );
    expect(renderPredictions('csv', ['a'], [[1]], [{ value: 3.14159265 }], undefined, [7])).toBe('row,a,predicted\n7,1,3.141593\n');
  });

  it('jsonl: each input object led by its source row, with predicted and probabilities', () => {
    const lines = renderPredictions('jsonl', columns, rows, cls, ['no', 'yes']).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[1]).toEqual({ row: 2, a: '2', predicted: 'y', note: null, _predicted: 'yes', probabilities: { no: 0.4, yes: 0.6 } });
    expect(renderPredictions('jsonl', ['a'], [[1]], [{ value: 2 }], undefined)).toBe('{"row":1,"a":1,"predicted":2}\n');
  });
});
