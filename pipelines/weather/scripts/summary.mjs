// Year-level metrics from the monthly table and the extremes, and each station's mean temperature by month (plots).
import { readFileSync, writeFileSync } from 'node:fs';

const [monthlyPath, extremesPath, output, byMonthPath] = process.argv.slice(2);
const [, ...rows] = readFileSync(monthlyPath, 'utf8').trim().split('\n');
const extremes = JSON.parse(readFileSync(extremesPath, 'utf8'));
const temps = rows.map((r) => Number(r.split(',')[2]));
const rain = rows.reduce((s, r) => s + Number(r.split(',')[3]), 0);
const metrics = {
  mean_temp_c: Number((temps.reduce((a, b) => a + b, 0) / temps.length).toFixed(3)),
  total_rain_mm: Number(rain.toFixed(1)),
  station_months: rows.length,
  range_c: Object.fromEntries(Object.entries(extremes).map(([s, v]) => [s, Number((v.hottest.temp - v.coldest.temp).toFixed(1))])),
};
writeFileSync(output, JSON.stringify(metrics, null, 2) + '\n');
const byMonth = new Map();
for (const r of rows) {
  const [station, month, temp] = r.split(',');
  const m = Number(month.slice(5));
  byMonth.set(m, { ...(byMonth.get(m) ?? { month: m }), [`${station}_temp_c`]: Number(temp) });
}
writeFileSync(byMonthPath, JSON.stringify([...byMonth.values()].sort((a, b) => a.month - b.month), null, 2) + '\n');
console.log(`mean ${metrics.mean_temp_c} °C, rain ${metrics.total_rain_mm} mm`);
