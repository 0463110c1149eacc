import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { checkImports } from '../../scripts/check-imports.mjs';
import { repoRoot } from '../helpers/paths.js';
import { makeWorkspace } from '../helpers/workspace.js';

// The layer rules and the cycle check of the import graph (DESIGN.md section 9, README
// Development): scripts/check-imports.mjs with .dependency-cruiser.cjs, as `npm run check:imports`.

const execNode = promisify(execFile);

describe('the import graph of src/', () => {
  it('follows the layer rules and has no cycle between files or folders', async () => {
    // In a child process: cruising all of src/ is seconds of synchronous work, which would hold up
    // this worker's replies to the test runner.
    const { stdout } = await execNode(process.execPath, [join(repoRoot, 'scripts', 'check-imports.mjs'), '--json'], { cwd: repoRoot }).catch((e: { stdout: string }) => e);
    expect(JSON.parse(stdout)).toEqual([]);
  }, 120_000);
});

describe('the check', () => {
  const tsconfig = JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] });

  async function problemsOf(files: Record<string, string>, known: { from: string; to: string; owner: string }[] = []): Promise<string[]> {
    const ws = await makeWorkspace({ 'tsconfig.json': tsconfig });
    try {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(ws.path(path)), { recursive: true });
        await writeFile(ws.path(path), text);
      }
      return await checkImports({ baseDir: ws.dir, known });
    } finally {
      await ws.cleanup();
    }
  }

  it('fails on an import against the layers, type-only ones included, and on a base that imports a layer', async () => {
    const problems = await problemsOf({
      'src/errors.ts': "import type { X } from './core/x.js';\nexport type E = X;\n",
      'src/core/x.ts': 'export type X = 1;\n',
      'src/schema/fields.ts': "import { y } from '../render/y.js';\nexport const f = y;\n",
      'src/render/y.ts': 'export const y = 1;\n',
      'src/ml/model.ts': "import type { R } from '../app/runs.js';\nexport type M = R;\n",
      'src/app/runs.ts': 'export type R = 1;\n',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'base-is-a-leaf: src/errors.ts → src/core/x.ts',
        'layer-schema: src/schema/fields.ts → src/render/y.ts',
        'layer-ml: src/ml/model.ts → src/app/runs.ts',
      ]),
    );
    expect(problems).toHaveLength(3);
  }, 120_000);

  it('fails on a cycle between files and on one between a folder and its subfolder', async () => {
    const problems = await problemsOf({
      'src/core/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/core/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'src/render/plan.ts': "import { id } from './progress/label.js';\nexport const plan = id;\n",
      'src/render/numbers.ts': 'export const n = 1;\n',
      'src/render/progress/label.ts': "import { n } from '../numbers.js';\nexport const id = n;\n",
    });
    expect(problems).toEqual([
      expect.stringMatching(/^no-file-cycle: src\/core\/a\.ts → src\/core\/b\.ts → src\/core\/a\.ts$/),
      'no-folder-cycle: src/render, src/render/progress import each other (src/render → src/render/progress by src/render/plan.ts → src/render/progress/label.ts; src/render/progress → src/render by src/render/progress/label.ts → src/render/numbers.ts)',
    ]);
  }, 120_000);

  it('leaves out a known folder import, and fails once that import closes no cycle', async () => {
    const cycle = {
      'src/render/plan.ts': "import { id } from './progress/label.js';\nexport const plan = id;\n",
      'src/render/numbers.ts': 'export const n = 1;\n',
      'src/render/progress/label.ts': "import { n } from '../numbers.js';\nexport const id = n;\n",
    };
    const known = [{ from: 'src/render', to: 'src/render/progress', owner: 'someone' }];
    expect(await problemsOf(cycle, known)).toEqual([]);
    expect(await problemsOf({ ...cycle, 'src/render/progress/label.ts': 'export const id = 1;\n' }, known)).toEqual([
      'known-folder-cycle gone: src/render → src/render/progress closes no cycle now; remove it from knownFolderCycles in .dependency-cruiser.cjs',
    ]);
  }, 120_000);
});
