import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTf, type Tf } from '../../src/ml/backend.js';
import { buildModel, resolveModel } from '../../src/ml/build-model.js';
import { loadModel, saveModel, type ModelMeta } from '../../src/ml/model-io.js';
import { quantizeModel, quantizeUint8, toFloat16Bits } from '../../src/ml/quantize.js';
import { makeMeta } from './fixtures.js';

let tf: Tf;
let dir: string;
beforeAll(async () => {
  ({ tf } = await loadTf('cpu'));
  dir = await mkdtemp(join(tmpdir(), 'mlpipe-quantize-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('toFloat16Bits', () => {
  it('encodes exact values, rounds to nearest even, saturates to infinity and flushes tiny values to zero', () => {
    expect([1, -2, 0.5, 65504, 0, -0].map(toFloat16Bits)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0, 0x8000]);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: to even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(toFloat16Bits(1e-9)).toBe(0);
  });
});

describe('quantizeUint8', () => {
  it('maps [min, max] onto 0…255 with 0 exact, each value within half a step', () => {
    const values = Float32Array.from([-1, -0.25, 0, 0.3, 2]);
    const q = quantizeUint8(values);
    expect(q.scale).toBeCloseTo(3 / 255, 9);
    const back = Array.from(q.bytes, (b) => b * q.scale + q.min);
    back.forEach((v, i) => expect(Math.abs(v - values[i]!)).toBeLessThanOrEqual(q.scale / 2 + 1e-7));
    expect(back[2]).toBeCloseTo(0, 12);
  });
});

describe('quantizeModel', () => {
  const meta = makeMeta({ task: 'multiclass', features: 4 });
  const resolved = resolveModel({ preset: 'mlp', hidden_units: [32] }, meta);
  const modelMeta: ModelMeta = { schemaVersion: 1, task: 'multiclass', output: resolved.output, loss: resolved.loss, inputShape: [4], inputDtype: 'float32', labels: meta.labels, dataset: meta, backend: 'cpu', seed: 1 };

  it('writes a model TensorFlow.js loads with dequantized weights: float16 half, uint8 a quarter of the weight bytes', async () => {
    const model = buildModel(tf, resolved, 1);
    const original = join(dir, 'original');
    await saveModel(tf, model, original, modelMeta);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    for (const [dtype, ratio, tolerance] of [['float16', 2, 2 ** -10], ['uint8', 4, 0.01]] as const) {
      const dest = join(dir, dtype);
      const q = await quantizeModel(original, dest, dtype);
      expect(q).toMatchObject({ dtype, weights: 4, weightBytesBefore: (4 * 32 + 32 + 32 * 3 + 3) * 4 });
      expect(q.weightBytesAfter).toBe(q.weightBytesBefore / ratio);
      const manifest = JSON.parse(await readFile(join(dest, 'model.json'), 'utf8')).weightsManifest[0].weights;
      expect(manifest.map((w: any) => w.quantization.dtype)).toEqual([dtype, dtype, dtype, dtype]);
      expect(JSON.parse(await readFile(join(dest, 'mlpipe.json'), 'utf8')).quantization).toBe(dtype);
      const loaded = await loadModel(tf, dest);
      loaded.model.getWeights().forEach((w, i) => {
        const got = w.dataSync();
        const want = weights[i]!;
        const worst = want.reduce((m, v, j) => Math.max(m, Math.abs(v - got[j]!)), 0);
        if (i % 2 === 0) expect(worst).toBeGreaterThan(0); // kernels change a little; biases start at 0, which both keep exactly
        expect(worst).toBeLessThan(tolerance);
      });
      loaded.model.dispose();
    }
    model.dispose();
  });

  it('refuses to quantize a model twice', async () => {
    await expect(quantizeModel(join(dir, 'uint8'), join(dir, 'twice'), 'float16')).rejects.toThrow(/weight dense_1\/kernel is already quantized \(uint8\)/);
  });
});
