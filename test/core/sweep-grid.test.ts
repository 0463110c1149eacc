import { describe, expect, it } from 'vitest';
import { expandRange, parseSweep, sweepGrid, sweepPoints } from '../../src/core/run/sweep-grid.js';

describe('sweep grids', () => {
  it('expands linear and log ranges', () => {
    expect(expandRange('range(1,4)')).toEqual(['1', '2', '3', '4']);
    expect(expandRange('range(0,1,lin,3)')).toEqual(['0', '0.5', '1']);
    expect(expandRange('range(0.001,0.1,log,3)')).toEqual(['0.001', '0.01', '0.1']);
    expect(expandRange('0.1')).toBeUndefined();
    expect(() => expandRange('range(0,1,log,3)')).toThrow('a log range needs positive bounds');
  });

  it('parses lists mixed with ranges and drops repeated values', () => {
    expect(parseSweep('params.lr=0.1, 0.2,range(3,4),0.1')).toEqual({ key: 'params.lr', values: ['0.1', '0.2', '3', '4'] });
    expect(() => parseSweep('params.lr')).toThrow('expected --sweep KEY=V1,V2,…, got "params.lr"');
    expect(() => parseSweep('params.lr=1,,2')).toThrow('empty value');
  });

  it('builds the cartesian product with the first axis varying slowest', () => {
    expect(sweepGrid([parseSweep('params.a=1,2'), parseSweep('train.batch_size=32,64')])).toEqual([
      ['params.a=1', 'train.batch_size=32'],
      ['params.a=1', 'train.batch_size=64'],
      ['params.a=2', 'train.batch_size=32'],
      ['params.a=2', 'train.batch_size=64'],
    ]);
    expect(() => sweepGrid([parseSweep('params.a=1'), parseSweep('params.a=2')])).toThrow('given twice');
  });
});

describe('random search (--trials)', () => {
  const axes = () => [parseSweep('params.lr=loguniform(1e-4,1e-1)'), parseSweep('train.batch_size=16,32,64'), parseSweep('params.units=randint(8,12)')];

  it('draws the same trials for the same seed, other trials for another, each inside its bounds', () => {
    const a = sweepPoints(axes(), { trials: 20, seed: 1 });
    expect(a).toHaveLength(20);
    expect(sweepPoints(axes(), { trials: 20, seed: 1 })).toEqual(a);
    expect(sweepPoints(axes(), { trials: 20, seed: 2 })).not.toEqual(a);
    for (const [lr, batch, units] of a) {
      const v = Number(lr!.split('=')[1]);
      expect(v).toBeGreaterThanOrEqual(1e-4);
      expect(v).toBeLessThanOrEqual(1e-1);
      expect(['train.batch_size=16', 'train.batch_size=32', 'train.batch_size=64']).toContain(batch);
      expect(Number(units!.split('=')[1])).toSatisfy((n: number) => Number.isInteger(n) && n >= 8 && n <= 12);
    }
  });

  it('spreads loguniform draws over the decades and reaches both randint ends', () => {
    const points = sweepPoints([parseSweep('params.lr=loguniform(1e-4,1e-1)'), parseSweep('params.k=randint(1,3)')], { trials: 300, seed: 7 });
    const decade = (p: string[]) => Math.floor(Math.log10(Number(p[0]!.split('=')[1])));
    for (const d of [-4, -3, -2]) expect(points.filter((p) => decade(p) === d).length).toBeGreaterThan(60);
    expect(new Set(points.map((p) => p[1]))).toEqual(new Set(['params.k=1', 'params.k=2', 'params.k=3']));
  });

  it('never draws a point twice, stopping when a small space is exhausted', () => {
    const points = sweepPoints([parseSweep('params.a=1,2'), parseSweep('params.b=randint(0,1)')], { trials: 10 });
    expect(points).toHaveLength(4);
    expect(new Set(points.map((p) => p.join(' '))).size).toBe(4);
  });

  it('needs --trials for a distribution, and refuses bad bounds with the axis named', () => {
    expect(() => sweepPoints([parseSweep('params.lr=uniform(0,1)')])).toThrow('--sweep params.lr is a distribution (uniform): say how many trials to draw with --trials N');
    expect(() => parseSweep('params.lr=loguniform(0,1)')).toThrow('--sweep params.lr=loguniform(0,1): a loguniform range needs positive bounds');
    expect(() => parseSweep('params.lr=uniform(2,1)')).toThrow('the low bound must be below the high one');
    expect(() => parseSweep('params.k=randint(1.5,3)')).toThrow('randint bounds must be integers');
    expect(() => sweepPoints([parseSweep('params.a=1,2'), parseSweep('params.a=uniform(0,1)')], { trials: 3 })).toThrow('given twice');
  });

  it('a grid is unchanged when --trials is not given', () => {
    expect(sweepPoints([parseSweep('params.a=1,2'), parseSweep('params.b=x,y')])).toEqual(sweepGrid([parseSweep('params.a=1,2'), parseSweep('params.b=x,y')]));
  });
});
