// Mean temperature and total rain per station and month.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [input, output] = process.argv.slice(2);
const [, ...rows] = readFileSync(input, 'utf8').trim().split('\n');
const groups = new Map();
for (const r of rows) {
  const [date, station, temp, rain] = r.split(',');
  const key = `${station},${date.slice(0, 7)}`;
  const g = groups.get(key) ?? { n: 0, temp: 0, rain: 0 };
  g.n++;
  g.temp += Number(temp);
  g.rain += Number(rain);
  groups.set(key, g);
}
const lines = ['station,month,mean_temp_c,rain_mm,days'];
for (const [key, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
  lines.push(`${key},${(g.temp / g.n).toFixed(2)},${g.rain.toFixed(1)},${g.n}`);
}
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, lines.join('\n') + '\n');
console.log(`${groups.size} station-months`);
