import { afterEach, describe, expect, it } from 'vitest';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => ws?.cleanup());

describe('pipelines/cars-sql (sql stages feeding preprocess)', () => {
  it('runs as the README says: a generated Parquet file, SQL features, R² above 0.6; a param re-runs from features on', async () => {
    ws = await makeWorkspace({});
    await cp(join(repoRoot, 'pipelines', 'cars-sql'), ws.path('cars-sql'), { recursive: true });
    const first = await runJson(['run', 'cars-sql/pipeline.yaml', '--set', 'params.epochs=40'], { cwd: ws.dir });
    expect(first.code).toBe(0);
    expect(first.json.metrics['evaluate.r2']).toBeGreaterThan(0.6);
    expect(first.json.metrics['features.rows']).toBe(398);
    expect((await readFile(ws.path('cars-sql/out/cars.parquet'))).subarray(0, 4).toString()).toBe('PAR1');
    const header = (await readFile(ws.path('cars-sql/out/features.csv'), 'utf8')).split('\n')[0];
    expect(header).toBe('Miles_per_Gallon,Cylinders,Horsepower,weight_tons,power_to_weight,Acceleration,model_year,Origin');

    const later = await runJson(['run', 'cars-sql/pipeline.yaml', '--set', 'params.epochs=40', '--set', 'params.min_year=1975'], { cwd: ws.dir });
    expect(later.code).toBe(0);
    expect(later.json.stages.map((s: any) => [s.name, s.cached])).toEqual([
      ['raw', true],
      ['features', false],
      ['prepare', false],
      ['train', false],
      ['evaluate', false],
    ]);
    expect(later.json.metrics['features.rows']).toBeLessThan(398);
  });
});
