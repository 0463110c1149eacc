// Drops rows with a missing temperature and rows outside [min, max] °C; writes a clean CSV.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [input, output, min, max] = process.argv.slice(2);
const [header, ...rows] = readFileSync(input, 'utf8').trim().split('\n');
const kept = rows.filter((r) => {
  const t = r.split(',')[2];
  return t !== '' && Number(t) >= Number(min) && Number(t) <= Number(max);
});
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, [header, ...kept].join('\n') + '\n');
console.log(`kept ${kept.length} of ${rows.length} rows`);
