import { describe, expect, it } from 'vitest';
import { RunFilterError } from '../../src/core/tracker/run-filter.js';
import type { RunFilter, Tracker } from '../../src/core/tracker/types.js';
import { point, run, type ContractTarget } from './tracker-contract.js';

/**
 * Run search (`runs list --filter`, the dashboard): the filter language compiled to SQL, the same
 * answers from SQLite and PostgreSQL, every value bound (hostile strings match literally).
 */
export function runSearchContract(target: ContractTarget): void {
  const seeded = async (): Promise<Tracker> => {
    const t = await target.open();
    const make = async (id: string, over: Parameters<typeof run>[1], metrics: Record<string, number>) => {
      await t.createRun(run(id, over));
      await t.logMetrics(Object.entries(metrics).map(([k, v]) => ({ ...point(id, k.split('.')[1]!, null, v), stage: k.split('.')[0]! })));
    };
    await make('a', { startedAt: 1, endedAt: 500, name: 'base', params: { lr: 0.001, opt: 'adam', model: { units: 8 }, flag: true }, tags: { owner: 'ana' } }, { 'evaluate.accuracy': 0.95, 'train.loss': 0.2 });
    await make('b', { startedAt: 2, endedAt: 52, params: { lr: 0.005, opt: 'sgd', model: { units: 16 }, flag: false }, tags: { owner: 'bo' } }, { 'evaluate.accuracy': 0.85 });
    await make('c', { startedAt: 3, pipeline: 'iris-v2', status: 'failed', params: { lr: 0.02, opt: 'adam' } }, { 'evaluate.accuracy': 0.97 });
    await make('d', { startedAt: 4, pipeline: 'weather', params: { lr: 'auto' }, tags: { owner: 'ana', team: 'x' } }, {});
    await make('e', { startedAt: 5, deletedAt: 9, params: { lr: 0.001 } }, { 'evaluate.accuracy': 0.99 });
    // A later final value of the same metric wins, as in the runs table.
    await t.logMetrics([{ ...point('b', 'accuracy', null, 0.86), stage: 'evaluate' }, { ...point('b', 'accuracy', 3, 0.1), stage: 'evaluate' }]);
    return t;
  };
  const ids = async (t: Tracker, f: RunFilter) => (await t.listRuns(f)).map((r) => r.id);

  describe('run search', () => {
    it('selects runs by params, final metrics, tags and run columns with and/or/not, in, like and is null', async () => {
      const t = await seeded();
      const where = (w: string) => ids(t, { where: w });
      expect(await where("params.lr < 0.01 and (metrics.evaluate.accuracy >= 0.9 or tags.owner = 'ana')")).toEqual(['a']);
      expect(await where("params.opt = 'adam'")).toEqual(['c', 'a']);
      expect(await where("params.opt in ('adam', 'sgd') and not params.opt == 'adam'")).toEqual(['b']);
      expect(await where("params.opt not in ('adam')")).toEqual(['b']);
      expect(await where("pipeline like 'IRIS%'")).toEqual(['c', 'b', 'a']);
      expect(await where("pipeline not like 'iris%'")).toEqual(['d']);
      expect(await where("tags.owner != 'ana'")).toEqual(['b']);
      expect(await where('tags.owner is null')).toEqual(['c']);
      expect(await where('tags.team is not null')).toEqual(['d']);
      expect(await where("status in ('failed', 'interrupted')")).toEqual(['c']);
      expect(await where('params.model.units >= 16')).toEqual(['b']);
      expect(await where('params.flag = true')).toEqual(['a']);
      expect(await where('params.flag is null')).toEqual(['d', 'c']);
      expect(await where("params.lr = 'auto' || params.lr > 0.01")).toEqual(['d', 'c']);
      expect(await where('metrics.evaluate.accuracy - 0.9 > 0.06')).toEqual(['c']);
      expect(await where('metrics.evaluate.accuracy = 0.86')).toEqual(['b']);
      expect(await where('metrics.evaluate.accuracy / 0 > 1 or metrics.evaluate.accuracy * 2 > 1.92')).toEqual(['c']);
      expect(await where("name = 'base' and duration_ms >= 499 and started_at < 2")).toEqual(['a']);
      expect(await where('metrics.train.loss < 1')).toEqual(['a']);
      expect(await ids(t, { where: 'params.lr = 0.001', deleted: 'include' })).toEqual(['e', 'a']);
    });

    it('orders by any field with missing values last, pages with limit and offset, and counts', async () => {
      const t = await seeded();
      expect(await ids(t, { orderBy: 'metrics.evaluate.accuracy desc' })).toEqual(['c', 'a', 'b', 'd']);
      expect(await ids(t, { orderBy: 'metrics.evaluate.accuracy' })).toEqual(['b', 'a', 'c', 'd']);
      expect(await ids(t, { orderBy: 'params.lr asc' })).toEqual(['a', 'b', 'c', 'd']);
      expect(await ids(t, { orderBy: 'tags.owner desc, started_at' })).toEqual(['b', 'a', 'd', 'c']);
      expect(await ids(t, { orderBy: 'pipeline desc' })).toEqual(['d', 'c', 'b', 'a']);
      expect(await ids(t, { orderBy: 'started_at', limit: 2, offset: 1 })).toEqual(['b', 'c']);
      expect(await ids(t, { orderBy: 'started_at', offset: 3 })).toEqual(['d']);
      expect(await t.countRuns({ where: "params.opt = 'adam'", limit: 1 })).toBe(2);
      expect(await t.countRuns({})).toBe(4);
      expect(await t.countRuns({ pipeline: 'iris', where: 'metrics.evaluate.accuracy > 0.9' })).toBe(1);
    });

    it('searches free text in ids, names, pipelines, tags, params and failed stages', async () => {
      const t = await seeded();
      expect(await ids(t, { search: 'ANA' })).toEqual(['d', 'a']);
      expect(await ids(t, { search: 'sgd' })).toEqual(['b']);
      expect(await ids(t, { search: 'iris failed' })).toEqual(['c']);
      expect(await ids(t, { search: '100%' })).toEqual([]);
      expect(await ids(t, { search: 'base', where: 'params.lr < 1' })).toEqual(['a']);
    });

    it('binds every value: hostile strings match literally and change nothing', async () => {
      const t = await seeded();
      const hostile = "x' or 1=1; drop table runs; --";
      expect(await ids(t, { where: `tags.owner = '${hostile.replace(/'/g, "''")}'` })).toEqual([]);
      await t.setRunTags('c', { owner: hostile });
      expect(await ids(t, { where: `tags.owner = '${hostile.replace(/'/g, "''")}'` })).toEqual(['c']);
      expect(await ids(t, { where: `tags.owner like '%''%'` })).toEqual(['c']);
      expect(await ids(t, { search: "'; drop table runs; --" })).toEqual([]);
      expect(await ids(t, { where: `pipeline in ('iris''); delete from runs; --', 'weather')` })).toEqual(['d']);
      await expect(ids(t, { where: "tags.`owner'); delete from runs; --` = 'a'" })).rejects.toThrow(/no run has the tag/);
      await expect(ids(t, { where: 'params.`lr" or 1=1` = 1' })).rejects.toThrow(RunFilterError);
      await expect(ids(t, { orderBy: 'started_at; drop table runs' })).rejects.toThrow(RunFilterError);
      expect(await t.countRuns({ deleted: 'include' })).toBe(5);
    });

    it('refuses filters it cannot read, naming the column and the closest known name', async () => {
      const t = await seeded();
      const err = async (f: RunFilter) => {
        const e = await t.listRuns(f).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(RunFilterError);
        return (e as Error).message;
      };
      expect(await err({ where: 'params.lrr < 0.01' })).toMatch(/no run has the param "params.lrr"; did you mean "params.lr"/);
      expect(await err({ where: 'metrics.evaluate.acuracy > 0.9' })).toMatch(/did you mean "metrics.evaluate.accuracy"/);
      expect(await err({ where: 'metrics.accuracy > 0.9' })).toMatch(/needs a stage and a key: metrics.STAGE.KEY/);
      expect(await err({ where: 'tags.owner > 3' })).toMatch(/one is text, the other a number/);
      expect(await err({ where: "tags.owner < 'b'" })).toMatch(/compares numbers; text is matched with =/);
      expect(await err({ where: 'params.lr <' })).toMatch(/at column 12/);
      expect(await err({ where: 'statu = 1' })).toMatch(/unknown field "statu"; did you mean "status"/);
      expect(await err({ where: "pipeline like 3" })).toMatch(/quoted pattern/);
      expect(await err({ where: 'params.lr' })).toMatch(/must be a condition/);
      expect(await err({ where: '1e999 > 1' })).toMatch(/too large/);
      expect(await err({ where: `${'('.repeat(100)}status = 'x'${')'.repeat(100)}` })).toMatch(/nested more than/);
      expect(await err({ orderBy: 'metrics.evaluate.nope desc' })).toMatch(/no run has the final metric/);
      expect(await err({ orderBy: 'started_at sideways' })).toMatch(/FIELD \[asc\|desc\]/);
    });

    it('lists the names a filter can read and final metrics of many runs in one call', async () => {
      const t = await seeded();
      expect(await t.runFields()).toEqual({ params: ['flag', 'lr', 'model.units', 'opt'], metrics: ['evaluate.accuracy', 'train.loss'], tags: ['owner', 'team'] });
      const finals = await t.getFinalMetrics(['a', 'b', 'd']);
      expect(Object.fromEntries(finals)).toEqual({ a: { 'evaluate.accuracy': 0.95, 'train.loss': 0.2 }, b: { 'evaluate.accuracy': 0.86 }, d: {} });
    });
  });
}
