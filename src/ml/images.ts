import { isAbsolute, resolve } from 'node:path';
import { DataError, type DataLocation } from './errors.js';

/** How an image column becomes model input: decoded, resized to width × height, 1 (grey) or 3 (RGB) channels, values / 255 in [0, 1]. */
export interface ImageOptions {
  column: string;
  width: number;
  height: number;
  channels: 1 | 3;
  /** How the aspect ratio is handled when resizing (sharp's `fit`): fill stretches, contain pads with black, cover crops. */
  fit: 'fill' | 'contain' | 'cover';
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Promise<Sharp> | undefined;

/** sharp (libvips) decodes PNG, JPEG, WebP, GIF and TIFF and resizes; loaded only when an image column is read. */
async function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

/** Pixels of one image file, row-major [height, width, channels], scaled to [0, 1]. A file that is missing or not an image is a DataError naming `loc`. */
export async function decodeImage(path: string, o: ImageOptions, loc: DataLocation = {}): Promise<Float32Array> {
  const sharp = await loadSharp();
  let data: Buffer;
  try {
    let img = sharp(path).resize(o.width, o.height, { fit: o.fit, background: { r: 0, g: 0, b: 0 } }).removeAlpha();
    img = o.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    data = (await img.raw().toBuffer({ resolveWithObject: true })).data;
  } catch (cause) {
    throw new DataError(`cannot read the image ${JSON.stringify(path)}: ${(cause as Error).message}`, {
      ...loc,
      column: o.column,
      hint: 'the column must hold paths of PNG/JPEG/WebP files, relative to the data file\'s folder',
      cause,
    });
  }
  const expected = o.width * o.height * o.channels;
  if (data.length !== expected) throw new DataError(`decoded ${data.length} values from ${JSON.stringify(path)}, expected ${expected}`, { ...loc, column: o.column });
  return Float32Array.from(data, (v) => v / 255);
}

/**
 * Replaces every image path in `values` (relative to `baseDir`) by its decoded pixels, a few files at
 * a time. Missing cells stay as they are.
 */
export async function decodeImageCells(values: unknown[], baseDir: string, o: ImageOptions, locate: (i: number) => DataLocation, isMissing: (v: unknown) => boolean): Promise<void> {
  const concurrency = 8;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < values.length; i = next++) {
      const v = values[i];
      if (isMissing(v) || typeof v !== 'string') continue;
      const path = isAbsolute(v) ? v : resolve(baseDir, v);
      values[i] = await decodeImage(path, o, locate(i));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
