// Writes each 8×8 digit of a jsonl file ({"pixels": [64 values 0–16], "digit": d}) as a grey PNG,
// plus index.csv (file,digit) beside them: the image-path input that the preprocess stage decodes.
//   node scripts/write-images.mjs data/digits.jsonl out/images
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const [input, outDir] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const rows = readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const index = ['file,digit'];
for (const [i, row] of rows.entries()) {
  const file = `${String(i).padStart(4, '0')}.png`;
  const pixels = Buffer.from(row.pixels.map((v) => Math.round((v * 255) / 16)));
  await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(outDir, file));
  index.push(`${file},${row.digit}`);
}
writeFileSync(join(outDir, 'index.csv'), `${index.join('\n')}\n`);
console.log(`wrote ${rows.length} images and index.csv to ${outDir}`);
