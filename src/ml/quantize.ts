import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { stableStringify } from './dataset.js';
import { MODEL_FILES, ModelLoadError, readModelMeta } from './model-io.js';

/** TensorFlow.js weight quantizations a deploy can apply: 2 bytes per weight (float16) or 1 (uint8, affine per tensor). */
export const quantizations = ['float16', 'uint8'] as const;
export type Quantization = (typeof quantizations)[number];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE 754 half-precision bits of `v`, rounded to nearest even (what tfjs' float16 decoder reads back). */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  const round = (half: number, rem: number, mid: number) => (rem > mid || (rem === mid && half & 1) ? half + 1 : half);
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    return sign | round(full >>> shift, full & ((1 << shift) - 1), 1 << (shift - 1));
  }
  return sign | round((e << 10) | (mant >>> 13), mant & 0x1fff, 0x1000);
}

/**
 * uint8 affine quantization as the TensorFlow.js converter does it: `scale = (max - min) / 255`,
 * `min` nudged to a multiple of `scale` (so 0 stays exact), each value `round((v - min) / scale)`.
 */
export function quantizeUint8(values: Float32Array): { bytes: Uint8Array; min: number; scale: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (values.length === 0) lo = hi = 0;
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const min = Math.round(lo / scale) * scale;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round((values[i]! - min) / scale)));
  return { bytes, min, scale };
}

function quantizeWeight(spec: io.WeightsManifestEntry, data: Buffer, dtype: Quantization): { spec: io.WeightsManifestEntry; bytes: Uint8Array } {
  if (spec.dtype !== 'float32' || spec.quantization) return { spec, bytes: data };
  const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (dtype === 'float16') {
    const half = Uint16Array.from(values, toFloat16Bits);
    return { spec: { ...spec, quantization: { dtype: 'float16' } }, bytes: new Uint8Array(half.buffer) };
  }
  const q = quantizeUint8(values);
  return { spec: { ...spec, quantization: { dtype: 'uint8', min: q.min, scale: q.scale } }, bytes: q.bytes };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** What {@link quantizeModel} wrote. */
export interface QuantizedModel {
  dtype: Quantization;
  /** Bytes of the model folder's files before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** Bytes of the weights file before and after. */
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** Weights quantized (float32 ones; others are kept as they are). */
  weights: number;
}

/**
 * Writes a copy of the model folder `src` (as `saveModel` wrote it) into `dest` with its float32
 * weights quantized to `dtype`: `model.json`'s weightsManifest carries each weight's `quantization`
 * (dtype, and min and scale for uint8), which TensorFlow.js' loader dequantizes, so serve and
 * predict load the copy like any model. `mlpipe.json` records the quantization.
 */
export async function quantizeModel(src: string, dest: string, dtype: Quantization): Promise<QuantizedModel> {
  const meta = await readModelMeta(src);
  const json = JSON.parse(await readFile(join(src, MODEL_FILES.topology), 'utf8')) as io.ModelJSON;
  const group = json.weightsManifest?.[0];
  if (!group || json.weightsManifest.length !== 1 || group.paths.length !== 1) throw new ModelLoadError(src, `${MODEL_FILES.topology} does not list one weights file, as the train stage writes it`);
  const bin = await readFile(join(src, group.paths[0]!));
  const specs: io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  let weights = 0;
  for (const spec of group.weights) {
    const size = spec.shape.reduce((n, d) => n * d, 1) * 4;
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new ModelLoadError(src, `weight ${spec.name} is ${spec.dtype}; only float32 and int32 weights are read here`);
    if (spec.quantization) throw new ModelLoadError(src, `weight ${spec.name} is already quantized (${spec.quantization.dtype})`);
    if (offset + size > bin.length) throw new ModelLoadError(src, `${group.paths[0]} is shorter than ${MODEL_FILES.topology} says`);
    const q = quantizeWeight(spec, bin.subarray(offset, offset + size), dtype);
    if (q.spec.quantization) weights++;
    specs.push(q.spec);
    parts.push(q.bytes);
    offset += size;
  }
  await mkdir(dest, { recursive: true });
  const quantized = Buffer.concat(parts);
  await writeFile(join(dest, MODEL_FILES.weights), quantized);
  await writeFile(join(dest, MODEL_FILES.topology), `${stableStringify({ ...json, weightsManifest: [{ paths: [MODEL_FILES.weights], weights: specs }] })}\n`);
  await writeFile(join(dest, MODEL_FILES.meta), `${stableStringify({ ...meta, quantization: dtype })}\n`);
  for (const name of await readdir(src)) {
    if (!(Object.values(MODEL_FILES) as string[]).includes(name) && name !== group.paths[0]) await copyFile(join(src, name), join(dest, name));
  }
  return { dtype, bytesBefore: await folderBytes(src), bytesAfter: await folderBytes(dest), weightBytesBefore: bin.length, weightBytesAfter: quantized.length, weights };
}
