import { describe, expect, it } from 'vitest';
import { findOutputRefs, hasOutputRef, interpolateParams, OUTPUT_REF_RE, substituteOutputRefs } from '../../../src/core/spec/interpolate.js';

const params = { lr: 0.01, epochs: 5, on: true, name: 'x', model: { units: 8, layers: [4, 2] } };

describe('interpolateParams', () => {
  it('keeps the type of a lone placeholder and formats one inside a string', () => {
    const r = interpolateParams(
      { lr: '${params.lr}', on: '${params.on}', units: '${ params.model.units }', layers: '${params.model.layers}', first: '${params.model.layers.0}', cmd: 'train --lr ${params.lr} --on=${params.on} --layers ${params.model.layers}' },
      params,
    );
    expect(r.value).toEqual({ lr: 0.01, on: true, units: 8, layers: [4, 2], first: 4, cmd: 'train --lr 0.01 --on=true --layers [4,2]' });
    expect(r.used).toEqual({ lr: 0.01, on: true, 'model.units': 8, 'model.layers': [4, 2], 'model.layers.0': 4 });
    expect(r.issues).toEqual([]);
  });

  it('gives each use its own copy of a structured param', () => {
    const r = interpolateParams({ a: '${params.model}', b: '${params.model}' }, params);
    const value = r.value as { a: object; b: object };
    expect(value.a).toEqual(params.model);
    expect(value.a).not.toBe(value.b);
    expect(value.a).not.toBe(params.model);
  });

  it('collects output refs and keeps them as written; leaves shell variables alone', () => {
    const r = interpolateParams({ run: 'cp ${stages.prep.outputs.data/clean.csv} "${HOME}/x" ${OUT:-y} ${#ARR} && echo ${params.name}' }, params, ['with']);
    expect(r.value).toEqual({ run: 'cp ${stages.prep.outputs.data/clean.csv} "${HOME}/x" ${OUT:-y} ${#ARR} && echo x' });
    expect(r.refs).toEqual([{ ref: { stage: 'prep', output: 'data/clean.csv' }, path: ['with', 'run'] }]);
  });

  it('reports unknown params and malformed placeholders, and marks those strings', () => {
    const r = interpolateParams({ a: '${params.lrr}', b: ['${params.model.unit} x'], c: '${stage.x.outputs.y}' }, params);
    expect(r.issues).toEqual([
      { path: ['a'], placeholder: '${params.lrr}', message: 'expected a declared param (lr, epochs, on, name, model), got "lrr" in ${params.lrr}', hint: 'did you mean ${params.lr}?' },
      { path: ['b', 0], placeholder: '${params.model.unit}', message: 'expected a key of params.model (units, layers), got "unit" in ${params.model.unit}', hint: 'did you mean ${params.model.units}?' },
      { path: ['c'], placeholder: '${stage.x.outputs.y}', message: 'expected ${params.NAME} or ${stages.STAGE.outputs.NAME}, got ${stage.x.outputs.y}', hint: 'did you mean ${stages.…}?' },
    ]);
    expect([...r.reported]).toEqual(['${params.lrr}', '${params.model.unit} x', '${stage.x.outputs.y}']);
  });
});

describe('output refs', () => {
  it('finds every ref, deep, with / and . in output names', () => {
    expect(findOutputRefs({ a: ['${stages.a.outputs.model}', { b: 'x ${stages.b-2.outputs.out/f.csv} ${stages.c.outputs.d}' }] })).toEqual([
      { stage: 'a', output: 'model' },
      { stage: 'b-2', output: 'out/f.csv' },
      { stage: 'c', output: 'd' },
    ]);
    expect(hasOutputRef('${stages.a.outputs.m}')).toBe(true);
    expect(hasOutputRef('${params.a}')).toBe(false);
    expect([...'${stages.s.outputs.o}'.matchAll(OUTPUT_REF_RE)].map((m) => [m[1], m[2]])).toEqual([['s', 'o']]);
  });

  it('substituteOutputRefs replaces each occurrence, deep, and returns a new value', () => {
    const config = { model: '${stages.train.outputs.model}', cmd: 'a ${stages.p.outputs.d} b ${stages.p.outputs.d}', n: 3, list: ['${stages.p.outputs.d}/x'] };
    const out = substituteOutputRefs(config, (stage, output) => `/runs/r1/${stage}/${output}`);
    expect(out).toEqual({ model: '/runs/r1/train/model', cmd: 'a /runs/r1/p/d b /runs/r1/p/d', n: 3, list: ['/runs/r1/p/d/x'] });
    expect(config.model).toBe('${stages.train.outputs.model}');
  });
});
