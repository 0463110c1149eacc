import { describe, expect, it } from 'vitest';
import { promotes, rungEpochs } from '../../src/core/run/asha-rungs.js';
import { AshaSearch, bestTrial, PRUNED_EPOCH, searchedStage, type SearchSettings } from '../../src/core/run/asha-search.js';
import { seededRandom } from '../../src/seeded-random.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';

const settings: SearchSettings = { method: 'asha', minEpochs: 1, reduction: 3 };
const MAX = 9;
const higher = () => 'max' as const;

// Each trial's val_accuracy at rung 1 (epochs 1–2), rung 3 (epochs 3–8) and the last epoch.
const curves = [
  [0.5, 0.6, 0.7],
  [0.6, 0.65, 0.72],
  [0.55, 0.58, 0.59], // below the best of three at rung 1
  [0.7, 0.62, 0.8], // best at rung 1, below the best of three at rung 3
  [0.4, 0.5, 0.6], // below the best of five at rung 1
  [0.65, 0.9, 0.95], // ties the second of six at rung 1 (two go on), best at rung 3
];
const valueAt = (curve: number[], epoch: number) => (epoch < 3 ? curve[0]! : epoch < MAX ? curve[1]! : curve[2]!);

/** Trains trial i against the search: epoch after epoch until pruned or at MAX; `pause` runs between epochs. */
async function train(search: AshaSearch, i: number, pause: () => Promise<void> = async () => {}): Promise<Record<string, number>> {
  const control = search.control(i);
  let epoch = 1;
  for (; epoch <= MAX; epoch++) {
    await pause();
    const metrics = { loss: 1 - valueAt(curves[i]!, epoch), val_loss: 1 - valueAt(curves[i]!, epoch), val_accuracy: valueAt(curves[i]!, epoch) };
    if ((await control.epochEnded(epoch, metrics, epoch === MAX)) === 'stop') break;
  }
  const final = { val_accuracy: valueAt(curves[i]!, Math.min(epoch, MAX)), epochs: Math.min(epoch, MAX), ...control.resultMetrics() };
  search.finished(i, final);
  return final;
}

const prunedOf = (results: Record<string, number>[]) => results.map((r) => r[PRUNED_EPOCH] ?? null);
const EXPECTED = [null, null, 1, 3, 1, null];

describe('ASHA rungs', () => {
  it('puts rungs at min-epochs · reduction^k below the last epoch', () => {
    expect(rungEpochs({ minEpochs: 1, reduction: 3 }, 9)).toEqual([1, 3]);
    expect(rungEpochs({ minEpochs: 1, reduction: 3 }, 10)).toEqual([1, 3, 9]);
    expect(rungEpochs({ minEpochs: 2, reduction: 2 }, 20)).toEqual([2, 4, 8, 16]);
    expect(rungEpochs({ minEpochs: 5, reduction: 3 }, 5)).toEqual([]);
  });

  it('promotes the top 1/reduction of a rung, only the best while fewer than reduction reached it', () => {
    expect(promotes(0.5, [0.5], 3, 'max')).toBe(true);
    expect(promotes(0.4, [0.5, 0.4], 3, 'max')).toBe(false);
    expect(promotes(0.6, [0.5, 0.6], 3, 'max')).toBe(true);
    // six values: the best two go on, a tie with the second too
    const six = [0.1, 0.9, 0.3, 0.8, 0.5, 0.8];
    expect(six.map((v) => promotes(v, six, 3, 'max'))).toEqual([false, true, false, true, false, true]);
    // lower is better for a loss
    expect([0.2, 0.1, 0.3].map((v) => promotes(v, [0.2, 0.1, 0.3], 3, 'min'))).toEqual([false, true, false]);
    expect(promotes(Number.NaN, [Number.NaN], 3, 'max')).toBe(false);
    expect(promotes(0.3, [Number.NaN, 0.3, 0.2], 3, 'max')).toBe(true);
  });
});

describe('AshaSearch', () => {
  it('prunes trials on synthetic curves: at rung 1 below the kept share, at rung 3 a trial that led at rung 1', async () => {
    const search = new AshaSearch(curves.length, settings, higher, new AbortController().signal);
    const results: Record<string, number>[] = [];
    for (let i = 0; i < curves.length; i++) results.push(await train(search, i));
    expect(prunedOf(results)).toEqual(EXPECTED);
    expect(results.map((r) => r.epochs)).toEqual([9, 9, 1, 3, 1, 9]);
    expect(results[3]).toMatchObject({ rung1_val_accuracy: 0.7, rung3_val_accuracy: 0.62, [PRUNED_EPOCH]: 3 });
    expect(search.resolved).toEqual({ objective: 'val_accuracy', direction: 'max' });
    const trials = results.map((r, i) => ({ status: 'completed', metrics: r, ...(r[PRUNED_EPOCH] !== undefined ? { pruned: r[PRUNED_EPOCH] } : {}) }));
    // trial 3 has the highest final value of all, but was pruned: the pick is among the others
    trials[3]!.metrics = { ...trials[3]!.metrics, val_accuracy: 0.99 };
    expect(bestTrial(trials, 'val_accuracy', 'max')).toBe(5);
  });

  it('takes the same decisions whatever order the trials report in (all at once, seeded random pauses)', async () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const pause = async () => {
        for (let k = Math.floor(random() * 20); k > 0; k--) await new Promise((r) => setImmediate(r));
      };
      const search = new AshaSearch(curves.length, settings, higher, new AbortController().signal);
      const results = await Promise.all(curves.map((_, i) => train(search, i, pause)));
      expect(prunedOf(results)).toEqual(EXPECTED);
    }
  });

  it('judges the trials after restored ones as when they ran: rung values come back with their metrics', async () => {
    const first = new AshaSearch(curves.length, settings, higher, new AbortController().signal);
    const results: Record<string, number>[] = [];
    for (let i = 0; i < curves.length; i++) results.push(await train(first, i));
    const again = new AshaSearch(curves.length, settings, higher, new AbortController().signal);
    for (let i = 0; i < 4; i++) again.finished(i, results[i]!);
    expect(again.prunedAt(3)).toBe(3);
    const rerun = [await train(again, 4), await train(again, 5)];
    expect(prunedOf(rerun)).toEqual([1, null]);
  });

  it('a trial waits at a rung for the earlier trials, and an earlier trial that ends early releases it', async () => {
    const search = new AshaSearch(2, settings, higher, new AbortController().signal);
    let decided = false;
    const waiting = search.control(1).epochEnded(1, { val_accuracy: 0.1 }, false).then((d) => ((decided = true), d));
    await new Promise((r) => setImmediate(r));
    expect(decided).toBe(false);
    search.end(0); // trial 0 failed before reporting anything
    expect(await waiting).toBe('continue');
  });

  it('a waiting trial is released with an error when the sweep is interrupted', async () => {
    const controller = new AbortController();
    const search = new AshaSearch(2, settings, higher, controller.signal);
    const waiting = search.control(1).epochEnded(1, { val_accuracy: 0.1 }, false);
    controller.abort(new Error('interrupted (SIGINT)'));
    await expect(waiting).rejects.toThrow('interrupted (SIGINT)');
  });

  it('uses the default objective by the metric names, lower-is-better when the direction function says so', async () => {
    const search = new AshaSearch(2, settings, (m) => (m.endsWith('loss') ? 'min' : 'max'), new AbortController().signal);
    await search.control(0).epochEnded(1, { loss: 0.5, val_loss: 0.5 }, false);
    expect(await search.control(1).epochEnded(1, { loss: 0.4, val_loss: 0.6 }, false)).toBe('stop');
    expect(search.resolved).toEqual({ objective: 'val_loss', direction: 'min' });
  });

  it('says what to do when the stage logs no validation metric, or not the chosen one', async () => {
    const none = new AshaSearch(1, settings, higher, new AbortController().signal);
    await expect(none.control(0).epochEnded(1, { loss: 0.5, accuracy: 0.6 }, false)).rejects.toThrow('--search asha judges trials on a validation metric per epoch, and this train stage logs none (it logs loss, accuracy)');
    const chosen = new AshaSearch(1, { ...settings, objective: 'train.val_auc' }, higher, new AbortController().signal);
    await expect(chosen.control(0).epochEnded(1, { loss: 0.5, val_loss: 0.5, val_accuracy: 0.6 }, false)).rejects.toThrow('--objective train.val_auc: the train stage logs no val_auc per epoch; its validation metrics are val_loss, val_accuracy');
  });

  it('keys each trial on the settings and the trials before it', () => {
    const search = new AshaSearch(3, settings, higher, new AbortController().signal);
    const grid = [['params.lr=0.1'], ['params.lr=0.2'], ['params.lr=0.3']];
    const ids = grid.map((_, i) => search.identity(i, grid));
    expect(new Set(ids.map((id) => JSON.stringify(id))).size).toBe(3);
    expect(search.identity(1, [['params.lr=0.1'], ['params.lr=0.2']])).toEqual(ids[1]);
    expect(search.identity(1, [['params.lr=0.5'], ['params.lr=0.2']])).not.toEqual(ids[1]);
    expect(new AshaSearch(3, { ...settings, reduction: 2 }, higher, new AbortController().signal).identity(1, grid)).not.toEqual(ids[1]);
  });

  it('finds the train stage to prune, or says why there is none', () => {
    const spec = (stages: Record<string, string>) => ({ name: 'p', order: Object.keys(stages), stages: Object.fromEntries(Object.entries(stages).map(([n, kind]) => [n, { kind }])) }) as unknown as PipelineSpec;
    expect(searchedStage(spec({ prepare: 'preprocess', fit: 'train', evaluate: 'evaluate' }))).toBe('fit');
    expect(searchedStage(spec({ a: 'train', b: 'train' }), 'b.val_accuracy')).toBe('b');
    expect(() => searchedStage(spec({ a: 'train', b: 'train' }))).toThrow('p has several train stages (a, b); say which one to judge with --objective STAGE.METRIC');
    expect(() => searchedStage(spec({ score: 'shell' }))).toThrow('--search asha prunes the epochs of a train stage, and p has none');
    expect(() => searchedStage(spec({ a: 'train', evaluate: 'evaluate' }), 'evaluate.val_accuracy')).toThrow('stage evaluate is of kind evaluate');
  });
});
