import { afterEach, describe, expect, it } from 'vitest';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';
import { discoverCodeFiles } from '../../../src/core/code-deps/discover-code.js';
import { ImportCache } from '../../../src/core/code-deps/import-cache.js';
import type { CodeEntry } from '../../../src/core/code-deps/entries.js';
import { uncachedHasher } from '../../../src/core/hash/stat-cache.js';
import { hashPath } from '../../../src/core/hash/hash-path.js';

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

/** The discovered files, relative to the project folder `proj` of the workspace. */
async function discover(entries: CodeEntry[], opts: { cwd?: string; covered?: (abs: string) => 'input' | 'output' | undefined; cache?: ImportCache } = {}) {
  const root = ws!.path('proj');
  const cache = opts.cache ?? (await ImportCache.open(ws!.path('runs')));
  const found = await discoverCodeFiles(entries, { cwd: opts.cwd ?? root, root, hasher: uncachedHasher, cache, covered: opts.covered ?? (() => undefined) });
  return Object.keys(found).map((abs) => abs.slice(root.length + 1));
}

describe('code discovery: JavaScript and TypeScript', () => {
  it('follows static ESM imports, re-exports, dynamic import() of a literal and require(), transitively', async () => {
    ws = await makeWorkspace({
      'proj/a.mjs': "import { b } from './lib/b.mjs';\nexport * from './lib/re.js';\nconst { d } = await import('./lib/d.mjs');\nconst name = 'x'; await import(`./lib/${name}.mjs`);\nimport fs from 'node:fs';\nimport _ from 'lodash';\n",
      'proj/lib/b.mjs': "const c = require('./c.cjs');\nexport const b = 1;\n",
      'proj/lib/c.cjs': "module.exports = require('../data/table.json');\n",
      'proj/lib/d.mjs': 'export const d = 1;\n',
      'proj/lib/re.js': 'export const r = 1;\n',
      'proj/lib/x.mjs': 'never listed: the dynamic import is not a literal\n',
      'proj/lib/unused.mjs': 'export const u = 1;\n',
      'proj/data/table.json': '{"a": 1}',
      'proj/node_modules/lodash/index.js': 'module.exports = {};\n',
    });
    expect(await discover([{ lang: 'js', path: 'a.mjs' }])).toEqual(['a.mjs', 'data/table.json', 'lib/b.mjs', 'lib/c.cjs', 'lib/d.mjs', 'lib/re.js']);
  });

  it('resolves TypeScript: a .js specifier to its .ts file, extensionless imports, folder index files, import = require', async () => {
    ws = await makeWorkspace({
      'proj/src/main.ts': "import type { T } from './types.js';\nimport { util } from './util';\nimport * as m from './models';\nimport cfg = require('./cfg');\nconst n: number = util(1 as T);\n",
      'proj/src/types.ts': 'export type T = number;\n',
      'proj/src/util.ts': 'export const util = (x: number): number => x;\n',
      'proj/src/models/index.ts': "export * from './net.js';\n",
      'proj/src/models/net.ts': 'export const net = 1;\n',
      'proj/src/cfg.ts': 'export = { a: 1 };\n',
    });
    expect(await discover([{ lang: 'js', path: 'src/main.ts' }])).toEqual(['src/cfg.ts', 'src/main.ts', 'src/models/index.ts', 'src/models/net.ts', 'src/types.ts', 'src/util.ts']);
  });

  it('leaves out files outside the project root (also through a symlink), covered inputs are followed but not listed, outputs neither', async () => {
    ws = await makeWorkspace({
      'proj/a.mjs': "import '../outside.mjs';\nimport './linked.mjs';\nimport './dep.mjs';\nimport './gen/made.mjs';\n",
      'outside.mjs': 'export {};\n',
      'proj/dep.mjs': "import './from-dep.mjs';\n",
      'proj/from-dep.mjs': 'export {};\n',
      'proj/gen/made.mjs': "import './never.mjs';\n",
      'proj/gen/never.mjs': 'export {};\n',
    });
    await symlink(ws.path('outside.mjs'), ws.path('proj/linked.mjs'));
    const covered = (abs: string) => (abs.endsWith('dep.mjs') && !abs.endsWith('from-dep.mjs') ? 'input' : abs.includes('/gen/') ? 'output' : undefined);
    expect(await discover([{ lang: 'js', path: 'a.mjs' }], { covered })).toEqual(['a.mjs', 'from-dep.mjs']);
  });

  it('keys each file by its digest, and reads a known digest from the cache instead of parsing it again', async () => {
    ws = await makeWorkspace({ 'proj/a.mjs': "import './b.mjs';\n", 'proj/b.mjs': 'export {};\n', 'proj/c.mjs': 'export {};\n' });
    const found = await discoverCodeFiles([{ lang: 'js', path: 'a.mjs' }], { cwd: ws.path('proj'), root: ws.path('proj'), hasher: uncachedHasher, cache: await ImportCache.open(ws.path('runs')), covered: () => undefined });
    expect(found).toEqual({ [ws.path('proj/a.mjs')]: (await hashPath(ws.path('proj/a.mjs'), uncachedHasher)).digest, [ws.path('proj/b.mjs')]: (await hashPath(ws.path('proj/b.mjs'), uncachedHasher)).digest });
    const file = ws.path('runs/cache/code-imports.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    const aKey = `js:${found[ws.path('proj/a.mjs')]}`;
    expect(saved.files[aKey]).toEqual({ js: ['./b.mjs'] });
    // A planted entry for a.mjs's digest is believed: the file is not parsed again.
    saved.files[aKey] = { js: ['./c.mjs'] };
    await writeFile(file, JSON.stringify(saved));
    expect(await discover([{ lang: 'js', path: 'a.mjs' }])).toEqual(['a.mjs', 'c.mjs']);
    // Another content is another digest: parsed afresh.
    await writeFile(ws.path('proj/a.mjs'), "import './b.mjs';\n// edited\n");
    expect(await discover([{ lang: 'js', path: 'a.mjs' }])).toEqual(['a.mjs', 'b.mjs']);
  });
});

describe('code discovery: Python (ast through python3)', () => {
  it('follows import x, from . import y, from pkg import module, from .mod import name and import_module("literal")', async () => {
    ws = await makeWorkspace({
      'proj/train.py': 'import os\nimport numpy as np\nimport helpers\nfrom pkg import models\nfrom pkg.sub.deep import f\nimport importlib\nimportlib.import_module("plugins.extra")\n',
      'proj/helpers.py': 'X = 1\n',
      'proj/pkg/__init__.py': '',
      'proj/pkg/models.py': 'from . import layers\nfrom .util import g\nfrom .. import nothing_above\n',
      'proj/pkg/layers.py': '',
      'proj/pkg/util.py': '',
      'proj/pkg/unused.py': '',
      'proj/pkg/sub/__init__.py': '',
      'proj/pkg/sub/deep.py': 'def f(): pass\n',
      'proj/plugins/extra.py': '',
      'proj/venv/lib/site-packages/numpy/__init__.py': '',
    });
    expect(await discover([{ lang: 'py', path: 'train.py' }])).toEqual([
      'helpers.py',
      'pkg/__init__.py',
      'pkg/layers.py',
      'pkg/models.py',
      'pkg/sub/__init__.py',
      'pkg/sub/deep.py',
      'pkg/util.py',
      'plugins/extra.py',
      'train.py',
    ]);
  });

  it('python -m pkg.mod resolves the module against the folder the command runs in; absolute imports of a script against its own folder', async () => {
    ws = await makeWorkspace({
      'proj/pkg/__init__.py': '',
      'proj/pkg/cli.py': 'from pkg.core import run\n',
      'proj/pkg/core.py': '',
      'proj/tools/run.py': 'import local_mod\n',
      'proj/tools/local_mod.py': '',
      'proj/local_mod.py': 'not this one: sys.path[0] is the script folder\n',
    });
    expect(await discover([{ lang: 'py', module: 'pkg.cli' }])).toEqual(['pkg/__init__.py', 'pkg/cli.py', 'pkg/core.py']);
    expect(await discover([{ lang: 'py', path: 'tools/run.py' }])).toEqual(['tools/local_mod.py', 'tools/run.py']);
  });

  /** Discovers a.py (which imports b) with MLPIPE_PYTHON set to `python`: the files found and the warnings. */
  async function withPython(python: string) {
    ws = await makeWorkspace({ 'proj/a.py': 'import b\n', 'proj/b.py': '' });
    const warnings: string[] = [];
    const saved = process.env.MLPIPE_PYTHON;
    process.env.MLPIPE_PYTHON = python;
    try {
      const found = await discoverCodeFiles([{ lang: 'py', path: 'a.py' }], {
        cwd: ws.path('proj'),
        root: ws.path('proj'),
        hasher: uncachedHasher,
        cache: await ImportCache.open(ws.path('runs')),
        covered: () => undefined,
        onWarning: (m) => warnings.push(m),
      });
      return { files: Object.keys(found).map((abs) => abs.slice(ws!.path('proj').length + 1)), warnings };
    } finally {
      if (saved === undefined) delete process.env.MLPIPE_PYTHON;
      else process.env.MLPIPE_PYTHON = saved;
    }
  }

  it('without python3 the script is keyed alone, with one warning naming the variable', async () => {
    const { files, warnings } = await withPython('/nonexistent/no-such-python3');
    expect(files).toEqual(['a.py']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('no-such-python3 was not found on PATH: the modules that a.py imports are not part of the cache key');
    expect(warnings[0]).toContain('MLPIPE_PYTHON');
  });

  it('a python that fails does not stop the plan: the script is keyed alone, with a warning', async () => {
    const { files, warnings } = await withPython('false');
    expect(files).toEqual(['a.py']);
    expect(warnings).toEqual([expect.stringMatching(/^false failed to list the imports \(exited with code 1\): the modules that a\.py imports are not part of the cache key/)]);
  });
});
