import { describe, expect, it } from 'vitest';
import { validateField, type FieldIssue } from '../../src/schema/validate-fields.js';
import { train, type TrainConfig } from '../../src/stages/train.js';
import { makeMeta, stageContext, writeFixtureDataset } from './fixtures.js';

function check(config: Record<string, unknown>): { value: Record<string, unknown>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const value = validateField({ data: 'd', model: 'mlp', ...config }, train.config, issues) as Record<string, unknown>;
  return { value, issues };
}

describe('the names Keras users type (issue 13 item 9)', () => {
  it('accepts loss and optimizer spellings in any letter case and stores the canonical name', () => {
    const cases: [unknown, unknown][] = [
      ['mse', 'mean_squared_error'], ['MSE', 'mean_squared_error'], ['mae', 'mean_absolute_error'], ['bce', 'binary_crossentropy'],
      ['mape', 'mean_absolute_percentage_error'], ['huber', 'huber'], ['kld', 'kl_divergence'], ['focal', 'focal'], ['BinaryFocalCrossentropy', 'focal'],
      ['BinaryCrossentropy', 'binary_crossentropy'],
    ];
    for (const [given, canonical] of cases) {
      const { value, issues } = check({ loss: given });
      expect(issues, String(given)).toEqual([]);
      expect(value.loss).toBe(canonical);
    }
    for (const [given, canonical] of [['Adam', 'adam'], ['SGD', 'sgd'], ['nadam', 'nadam'], ['AdamW', 'adamw'], ['RMSprop', 'rmsprop']]) {
      const { value, issues } = check({ optimizer: given });
      expect(issues).toEqual([]);
      expect(value.optimizer).toBe(canonical);
    }
  });

  it('accepts the sklearn names of the no-hidden-layer preset, alone or as `preset:`', () => {
    for (const given of ['linear_regression', 'Linear', 'logreg', 'logistic']) {
      const alone = check({ model: given });
      expect(alone.issues, given).toEqual([]);
      expect(alone.value.model).toBe('logistic_regression');
      const nested = check({ model: { preset: given, l2: 0.01 } });
      expect(nested.issues, given).toEqual([]);
      expect(nested.value.model).toMatchObject({ preset: 'logistic_regression', l2: 0.01 });
    }
  });

  it('lr is an alias of learning_rate; giving both is an error', () => {
    const { value, issues } = check({ optimizer: { name: 'Adam', lr: 0.01, clipnorm: 1, clipvalue: 0.5 } });
    expect(issues).toEqual([]);
    expect(value.optimizer).toMatchObject({ name: 'adam', learning_rate: 0.01, clipnorm: 1, clipvalue: 0.5 });
    expect(check({ optimizer: { lr: 0.01, learning_rate: 0.1 } }).issues.map((i) => i.message)).toEqual(['"lr" and "learning_rate" name the same setting; give one']);
  });

  it('an unknown name gets the nearest accepted one as a hint', () => {
    const loss = check({ loss: 'msle' }).issues[0]!;
    expect(loss.hint).toBe('did you mean "mse"?');
    const optimizer = check({ optimizer: 'adamm' }).issues[0]!;
    expect(optimizer.hint).toMatch(/did you mean "adam(w)?"\?/);
    const act = validateField({ type: 'dense', units: 2, activation: 'leakyrelu' }, (train.config.properties.model as never as { variants: [unknown, { properties: { layers: { items: never } } }] }).variants[1].properties.layers.items, [] as FieldIssue[]);
    expect(act).toBeDefined();
  });

  it('trains with focal loss, nadam + clipnorm, a cosine schedule (lr logged per epoch), an auc metric, leaky_relu, he_normal and early stopping on val_auc', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 64, validation: 32 });
    const rec = await stageContext<TrainConfig>(train, {
      data,
      model: { layers: [{ type: 'dense', units: 8, activation: 'leaky_relu', kernel_initializer: 'he_normal', kernel_regularizer: { l1: 0.001, l2: 0.001 } }] },
      loss: { name: 'focal', gamma: 2, alpha: 0.25, label_smoothing: 0.05 },
      optimizer: { name: 'Nadam', lr: 0.05, clipnorm: 1, schedule: { type: 'cosine', min_lr: 0.001 } },
      metrics: ['auc', 'precision'],
      early_stopping: { monitor: 'val_auc', patience: 2 },
      epochs: 4,
      batch_size: 16,
    });
    const result = await train.run(rec.ctx);
    expect(rec.logs).toContain('model: dense(8, leaky_relu) → dense(1, sigmoid); 49 parameters; loss focal (label_smoothing 0.05, gamma 2, alpha 0.25)');
    expect(rec.logs.some((l) => l.startsWith('optimizer: nadam, learning rate 0.05, clipnorm 1, schedule cosine(to 0.001);'))).toBe(true);
    const lr = rec.metrics.filter((m) => m.key === 'lr').map((m) => m.value);
    expect(lr[0]).toBeCloseTo(0.05, 8);
    expect(lr[lr.length - 1]).toBeLessThan(lr[0]!);
    expect(rec.metrics.some((m) => m.key === 'val_auc')).toBe(true);
    expect(rec.metrics.some((m) => m.key === 'precision')).toBe(true);
    expect(result!.metrics!.val_auc).toBeGreaterThan(0.8);
  });

  it('early stopping on a metric that is not logged names the available ones', async () => {
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 16, validation: 8 });
    const rec = await stageContext<TrainConfig>(train, { data, model: 'logistic_regression', early_stopping: { monitor: 'val_auc' }, epochs: 1 });
    await expect(train.run(rec.ctx)).rejects.toThrow('early_stopping.monitor "val_auc" is not computed here; available: loss, accuracy, val_loss, val_accuracy (add auc to the train stage\'s metrics to log it)');
  });
});

describe('a decision threshold for binary tasks (issue 13 item 9)', () => {
  it('evaluate predicts class 1 at or above the threshold; auc does not change, recall does', async () => {
    const { evaluate } = await import('../../src/stages/evaluate.js');
    const data = await writeFixtureDataset(makeMeta({ task: 'binary', features: 4 }), { train: 64, test: 64 });
    const t = await stageContext<TrainConfig>(train, { data, model: 'logistic_regression', optimizer: { name: 'adam', lr: 0.05 }, epochs: 5, validation_split: 0 });
    await train.run(t.ctx);
    const at = async (threshold?: number) => {
      const e = await stageContext(evaluate, { model: t.ctx.outputs.model!, data, ...(threshold ? { threshold } : {}), metrics: ['auc', 'recall', 'balanced_accuracy', 'mcc'] });
      return { metrics: (await evaluate.run(e.ctx))!.metrics!, logs: e.logs };
    };
    const base = await at();
    const strict = await at(0.95);
    expect(strict.logs).toContain('threshold: class c1 when its probability is at least 0.95');
    expect(strict.metrics.auc).toBe(base.metrics.auc);
    expect(strict.metrics.recall).toBeLessThan(base.metrics.recall!);
    expect(Object.keys(base.metrics).filter((k) => !k.startsWith('confusion_matrix.')).sort()).toEqual(['auc', 'balanced_accuracy', 'mcc', 'recall', 'recall_macro', 'recall_weighted']);
    const { predictRows } = await import('../../src/ml/predict.js');
    const row = { f0: 0.05, f1: 0.05, f2: 0, f3: 0 };
    const [loose] = await predictRows(t.ctx.outputs.model!, [row], { backend: 'cpu', threshold: 0.01 });
    const [tight] = await predictRows(t.ctx.outputs.model!, [row], { backend: 'cpu', threshold: 0.99 });
    expect([loose!.label, tight!.label]).toEqual(['c1', 'c0']);
  });
});
