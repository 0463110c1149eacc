import type { Random } from '../../seeded-random.js';

/** A standard normal draw (Box–Muller). */
export function gaussian(random: Random): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** `row` with N(0, std²) added to each column flagged in `columns`. */
export function addNoise(row: Float32Array | Int32Array, out: Float32Array | Int32Array, columns: boolean[], std: number, random: Random): void {
  for (let c = 0; c < row.length; c++) out[c] = columns[c] ? row[c]! + std * gaussian(random) : row[c]!;
}

/** Text augmentation of one sequence of token ids (0 is padding, 1 the out-of-vocabulary token). */
export interface TextAugmentOptions {
  /** Each token is deleted with this probability (at least one is kept). */
  deletion: number;
  /** Pairs of tokens swapped per sequence. */
  swap: number;
  /** Each token becomes the out-of-vocabulary token with this probability (synonym-free token dropout). */
  dropout: number;
  padding: 'pre' | 'post';
}

/** `tokens` (`length` ids, padded) with tokens deleted, swapped and dropped out, padded again on the same side. */
export function augmentTokens(tokens: ArrayLike<number>, out: { [i: number]: number; length: number }, o: TextAugmentOptions, random: Random): void {
  let words: number[] = [];
  for (let i = 0; i < tokens.length; i++) if (tokens[i] !== 0) words.push(tokens[i]!);
  if (o.deletion > 0 && words.length > 1) {
    const kept = words.filter(() => random() >= o.deletion);
    words = kept.length > 0 ? kept : [words[Math.floor(random() * words.length)]!];
  }
  for (let s = 0; s < o.swap && words.length > 1; s++) {
    const a = Math.floor(random() * words.length);
    const b = Math.floor(random() * words.length);
    [words[a], words[b]] = [words[b]!, words[a]!];
  }
  if (o.dropout > 0) words = words.map((t) => (random() < o.dropout ? 1 : t));
  const pad = out.length - words.length;
  for (let i = 0; i < out.length; i++) out[i] = o.padding === 'pre' ? (i < pad ? 0 : words[i - pad]!) : i < words.length ? words[i]! : 0;
}

/** Image augmentation: random flips, shifts and rotations, each copy drawn anew. */
export interface ImageAugmentOptions {
  flip: 'none' | 'horizontal' | 'vertical' | 'both';
  /** The largest shift, as a fraction of the width (height) each way. */
  shift: number;
  /** The largest rotation in degrees each way. */
  rotate: number;
}

/**
 * One random transform of an [height, width, channels] image: each allowed flip with probability
 * ½, a shift and a rotation about the centre drawn uniformly; nearest-pixel sampling, black outside.
 */
export function augmentImage(image: ArrayLike<number>, out: { [i: number]: number }, shape: { height: number; width: number; channels: number }, o: ImageAugmentOptions, random: Random): void {
  const { height: h, width: w, channels: ch } = shape;
  const flipX = (o.flip === 'horizontal' || o.flip === 'both') && random() < 0.5;
  const flipY = (o.flip === 'vertical' || o.flip === 'both') && random() < 0.5;
  const dx = Math.round((random() * 2 - 1) * o.shift * w);
  const dy = Math.round((random() * 2 - 1) * o.shift * h);
  const angle = ((random() * 2 - 1) * o.rotate * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = x - dx - cx;
      const py = y - dy - cy;
      let sx = Math.round(cos * px + sin * py + cx);
      let sy = Math.round(-sin * px + cos * py + cy);
      if (flipX) sx = w - 1 - sx;
      if (flipY) sy = h - 1 - sy;
      const inside = sx >= 0 && sx < w && sy >= 0 && sy < h;
      for (let c = 0; c < ch; c++) out[(y * w + x) * ch + c] = inside ? image[(sy * w + sx) * ch + c]! : 0;
    }
  }
}
