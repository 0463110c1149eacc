import { describe, expect, it } from 'vitest';
import { expandRange, parseSweep, sweepGrid } from '../../src/core/run/sweep-grid.js';

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
