// The hottest and coldest days of each station.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [input, output] = process.argv.slice(2);
const [, ...rows] = readFileSync(input, 'utf8').trim().split('\n');
const out = {};
for (const r of rows) {
  const [date, station, temp] = r.split(',');
  const s = (out[station] ??= { hottest: { date, temp: -Infinity }, coldest: { date, temp: Infinity } });
  if (Number(temp) > s.hottest.temp) s.hottest = { date, temp: Number(temp) };
  if (Number(temp) < s.coldest.temp) s.coldest = { date, temp: Number(temp) };
}
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, JSON.stringify(out, null, 2) + '\n');
console.log(Object.entries(out).map(([s, v]) => `${s}: ${v.coldest.temp}..${v.hottest.temp} °C`).join('; '));
