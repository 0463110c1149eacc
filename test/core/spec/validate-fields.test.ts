import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, editDistance } from '../../../src/schema/did-you-mean.js';
import { f } from '../../../src/schema/fields.js';
import { describeField, validateField, type FieldIssue, type PathUse } from '../../../src/schema/validate-fields.js';

function check(value: unknown, field: Parameters<typeof validateField>[1], opts: Parameters<typeof validateField>[3] = {}): { value: unknown; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  return { value: validateField(value, field, issues, opts), issues };
}

const optimizer = f.object('Optimizer.', {
  name: f.enum('Name.', ['adam', 'sgd'], { default: 'adam' }),
  learning_rate: f.number('Rate.', { exclusiveMinimum: 0, default: 0.001 }),
});

describe('validateField', () => {
  it('applies defaults, also inside a default object, without touching the input', () => {
    const field = f.object('Train.', { epochs: f.int('Epochs.', { minimum: 1, default: 10 }), optimizer: { ...optimizer, default: {} }, seed: f.int('Seed.') });
    const input = { epochs: 3 };
    expect(check(input, field)).toEqual({ value: { epochs: 3, optimizer: { name: 'adam', learning_rate: 0.001 } }, issues: [] });
    expect(input).toEqual({ epochs: 3 });
  });

  it('reports types, bounds, enums, unknown and missing keys, each at its path', () => {
    const field = f.object('Train.', { epochs: f.int('Epochs.', { minimum: 1 }), optimizer, data: f.path('Data.') }, { required: ['data'] });
    expect(check({ epochs: 2.5, optimizer: { name: 'adamw', lr: 1 }, extra: true }, field).issues).toEqual([
      { path: ['epochs'], message: 'expected an integer ≥ 1, got 2.5', side: 'value' },
      { path: ['optimizer', 'name'], message: 'expected one of "adam", "sgd", got "adamw"', hint: 'did you mean "adam"?', side: 'value' },
      { path: ['optimizer', 'lr'], message: 'expected a known key (name, learning_rate), got "lr"', side: 'key' },
      { path: ['extra'], message: 'expected a known key (epochs, optimizer, data), got "extra"', side: 'key' },
      { path: [], message: 'expected a "data" key (a path), got none', hint: 'add "data:" — Data.', side: 'key' },
    ]);
  });

  it('refuses numbers out of range of a double, and null where a value is expected', () => {
    expect(check(Infinity, f.number('N.')).issues[0].message).toBe('expected a number, got Infinity (a number out of range)');
    expect(check(null, f.string('S.')).issues[0].message).toBe('expected a string, got nothing');
    expect(check(null, f.any('A.')).issues).toEqual([]);
  });

  it('validates lists, maps with key patterns, and picks a oneOf variant by JSON type', () => {
    expect(check([1, 'x'], f.array('L.', f.int('I.'), { minItems: 1 })).issues).toEqual([{ path: [1], message: 'expected an integer, got "x"', side: 'value' }]);
    expect(check([], f.array('L.', f.int('I.'), { minItems: 1 })).issues[0].message).toBe('expected a list of at least 1 item, got an empty list');
    expect(check({ ok: 'a', 'bad key': 'b' }, f.map('M.', f.string('S.'), { keyPattern: '^[a-z]+$' })).issues).toEqual([
      { path: ['bad key'], message: 'expected a key matching /^[a-z]+$/, got "bad key"', side: 'key' },
    ]);
    const preset = f.oneOf('Model.', [f.enum('Preset.', ['mlp', 'logistic_regression']), optimizer]);
    expect(check('mlp', preset)).toEqual({ value: 'mlp', issues: [] });
    expect(check({}, preset)).toEqual({ value: { name: 'adam', learning_rate: 0.001 }, issues: [] });
    expect(check(3, preset).issues[0].message).toBe('expected one of "mlp", "logistic_regression" or a mapping, got 3');
  });

  it('tells tagged objects apart by their tag, whether or not the variant declares it', () => {
    const layer = f.tagged('Layer.', 'type', {
      dense: f.object('Dense.', { units: f.int('Units.', { minimum: 1 }) }, { required: ['units'] }),
      dropout: f.object('Dropout.', { type: f.string('Tag.'), rate: f.number('Rate.', { default: 0.5 }) }),
    });
    expect(check({ type: 'dense', units: 4 }, layer)).toEqual({ value: { type: 'dense', units: 4 }, issues: [] });
    expect(check({ type: 'dropout' }, layer)).toEqual({ value: { type: 'dropout', rate: 0.5 }, issues: [] });
    expect(check({ type: 'dens', units: 4 }, layer).issues).toEqual([
      { path: ['type'], message: 'expected "type" to be one of dense, dropout, got "dens"', hint: 'did you mean "dense"?', side: 'value' },
    ]);
    expect(check({ units: 4 }, layer).issues[0]).toMatchObject({ path: [], message: 'expected "type" to be one of dense, dropout, got no "type" key' });
  });

  it('accepts deferred strings where a plain string or path goes, and already-reported strings anywhere', () => {
    const field = f.object('S.', { data: f.path('Data.'), name: f.enum('N.', ['a']), n: f.int('N.'), out: f.string('Out.', { path: 'output' }) });
    const paths: PathUse[] = [];
    const opts = { isDeferred: (s: string) => s.startsWith('${stages.'), isReported: (s: string) => s === '${params.bad}', onPath: (u: PathUse) => paths.push(u) };
    const { issues } = check({ data: '${stages.p.outputs.d}', name: '${stages.p.outputs.d}', n: '${params.bad}', out: 'o.txt' }, field, opts);
    expect(issues.map((i) => i.path)).toEqual([['name']]);
    expect(paths).toEqual([
      { path: ['data'], value: '${stages.p.outputs.d}', mode: 'input' },
      { path: ['out'], value: 'o.txt', mode: 'output' },
    ]);
  });

  it('describes fields in words', () => {
    expect(describeField(f.number('x', { exclusiveMinimum: 0, maximum: 1 }))).toBe('a number > 0 and ≤ 1');
    expect(describeField(f.bool('x'))).toBe('true or false');
  });
});

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('trian', 'train')).toBe(1);
    expect(editDistance('epoch', 'epochs')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only close candidates', () => {
    expect(closestMatch('lrr', ['lr', 'epochs'])).toBe('lr');
    expect(closestMatch('Epochs', ['epochs'])).toBe('epochs');
    expect(closestMatch('optimizer', ['lr', 'epochs'])).toBeUndefined();
    expect(didYouMean('dens', ['dense', 'dropout'])).toBe('did you mean "dense"?');
  });

  it('falls back to a name that starts the input, or that the input starts, when no edit is close', () => {
    expect(closestMatch('dataset', ['model', 'data', 'epochs'])).toBe('data');
    expect(closestMatch('valid', ['validation_split', 'validation', 'value'])).toBe('validation');
    expect(closestMatch('ep', ['epochs'])).toBeUndefined();
    expect(closestMatch('optimizer', ['optim_x', 'lr'])).toBeUndefined();
  });

  it('suggests nothing when the names the input starts branch apart', () => {
    expect(closestMatch('baseline', ['accuracy', 'baseline.accuracy', 'baseline.loss'])).toBeUndefined();
    expect(closestMatch('baseline', ['accuracy', 'baseline.accuracy'])).toBe('baseline.accuracy');
  });
});
