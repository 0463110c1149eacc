import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, runCli, runJson } from '../helpers/cli.js';

let dir: string;
const env = () => ({ MLPIPE_RUNS_DIR: join(dir, 'runs'), MLPIPE_BACKEND: 'cpu' });
const cli = (...args: string[]) => runCli(args, { cwd: dir, env: env() });
const json = (...args: string[]) => runJson(args, { cwd: dir, env: env() });

/** pipelines/iris registering `name` with the deploy keys `extra` (the train stage is the same, so it is restored from the cache). */
async function quantizedSpec(name: string, extra: string): Promise<string> {
  const spec = (await readFile(join(dir, 'iris', 'pipeline.yaml'), 'utf8'))
    .replace('name: iris\n', `name: ${name}\n`)
    .replace('      name: iris\n', `      name: ${name}\n      data: \${stages.prepare.outputs.dataset}\n${extra}`);
  await writeFile(join(dir, 'iris', `${name}.yaml`), spec);
  return `iris/${name}.yaml`;
}

const csvRows = (text: string) => text.trim().split('\n').slice(1).map((l) => l.split(','));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlpipe-quantize-e2e-'));
  await cp(join(repoRoot, 'pipelines', 'iris'), join(dir, 'iris'), { recursive: true });
  const r = await json('run', 'iris/pipeline.yaml');
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('deploy.quantize on the iris example', () => {
  it('registers the uint8 model with its size and test-split metric before and after; predict and serve load it', async () => {
    const spec = await quantizedSpec('iris-uint8', '      quantize: uint8\n      max_metric_drop: 0.005\n');
    const r = await json('run', spec);
    expect(r.code, r.stderr).toBe(0);
    const deploy = r.json.stages.find((s: any) => s.name === 'deploy');
    const m = deploy.metrics;
    // iris: 131 float32 weights (524 bytes) → 131 bytes; accuracy 1 → 1 on the 30 test rows.
    expect(m).toMatchObject({ weights_before_bytes: 524, weights_after_bytes: 131, accuracy_before: 1, accuracy_after: 1, accuracy_drop: 0, version: 1 });
    expect(m.size_after_bytes).toBeGreaterThan(0);
    const log = await readFile(join(dir, 'runs', r.json.runId, '.logs', 'deploy.log'), 'utf8');
    expect(log).toMatch(/quantize uint8: 4 weights; weights file 524 → 131 bytes \(25%\), model folder \d+ → \d+ bytes \(\d+%\); accuracy on the test split \(30 rows\) 1 → 1/);
    const registration = JSON.parse(await readFile(join(dir, 'runs', r.json.runId, 'deploy', 'registration.json'), 'utf8'));
    expect(registration.quantize).toMatchObject({ dtype: 'uint8', split: 'test', metric: 'accuracy', accuracy_drop: 0, max_metric_drop: 0.005 });
    const registered = join(dir, 'runs', 'models', 'iris-uint8', '1');
    const manifest = JSON.parse(await readFile(join(registered, 'model.json'), 'utf8')).weightsManifest[0].weights;
    expect(manifest.every((w: any) => w.quantization.dtype === 'uint8' && typeof w.quantization.scale === 'number')).toBe(true);
    const shown = (await json('models', 'show', 'iris-uint8@1')).json;
    expect(shown.metrics).toMatchObject({ accuracy_after: 1, weights_after_bytes: 131 });
    expect(shown.signature.weights).toBe('uint8');
    expect((await cli('models', 'show', 'iris-uint8@1')).stdout).toContain('  weights    uint8 (quantized on deploy; dequantized when loaded)');

    expect((await cli('predict', 'iris', '--input', 'iris/data/iris.csv', '--output', 'float.csv')).code).toBe(0);
    const p = await cli('predict', 'iris-uint8', '--input', 'iris/data/iris.csv', '--output', 'uint8.csv');
    expect(p.code, p.stderr).toBe(0);
    const float = csvRows(await readFile(join(dir, 'float.csv'), 'utf8'));
    const quant = csvRows(await readFile(join(dir, 'uint8.csv'), 'utf8'));
    const predicted = float[0]!.length - 4;
    expect(quant.map((row) => row[predicted])).toEqual(float.map((row) => row[predicted]));
    const worst = Math.max(...quant.flatMap((row, i) => row.slice(predicted + 1).map((v, j) => Math.abs(Number(v) - Number(float[i]![predicted + 1 + j])))));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(0.05);

    const server = spawn(process.execPath, [cliPath, 'serve', 'iris-uint8', '--port', '0'], { cwd: dir, env: { ...process.env, ...env(), CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr!.on('data', (d) => {
          err += d;
          const found = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
          if (found) resolve(found[1]!);
        });
        server.on('close', (code) => reject(new Error(`serve exited ${code}:\n${err}`)));
      });
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] }) });
      expect(res.status).toBe(200);
      expect((await res.json()).predictions[0].label).toBe('setosa');
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('float16 halves the weights; a drop past max_metric_drop fails the deploy with exit 3 and registers nothing', async () => {
    const half = await json('run', await quantizedSpec('iris-half', '      quantize: float16\n'));
    expect(half.code, half.stderr).toBe(0);
    expect(half.json.stages.find((s: any) => s.name === 'deploy').metrics).toMatchObject({ weights_before_bytes: 524, weights_after_bytes: 262 });

    const strict = await quantizedSpec('iris-strict', '      quantize: uint8\n      quantize_metric: log_loss\n      max_metric_drop: 0\n');
    const r = await cli('run', strict);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/quantize uint8: log_loss on the test split got worse by [0-9.e-]+ \([0-9.]+ → [0-9.]+\), more than max_metric_drop 0; nothing was registered/);
    expect((await cli('models', 'list', 'iris-strict')).stdout).toContain('no versions of iris-strict are registered');
  });

  it('validate refuses quantize without data, and max_metric_drop without quantize', async () => {
    const spec = (await readFile(join(dir, 'iris', 'pipeline.yaml'), 'utf8')).replace('      name: iris\n', '      name: iris\n      quantize: uint8\n');
    await writeFile(join(dir, 'iris', 'nodata.yaml'), spec);
    const a = await cli('validate', 'iris/nodata.yaml');
    expect(a.code).toBe(2);
    expect(a.stderr + a.stdout).toContain('quantize scores the quantized model against the original on the test split, which needs the dataset');
    await writeFile(join(dir, 'iris', 'nogate.yaml'), spec.replace('quantize: uint8', 'max_metric_drop: 0.01'));
    const b = await cli('validate', 'iris/nogate.yaml');
    expect(b.code).toBe(2);
    expect(b.stderr + b.stdout).toContain('max_metric_drop applies to a quantized deploy; quantize is not set');
  });
});
