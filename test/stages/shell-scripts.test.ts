import { describe, expect, it } from 'vitest';
import { scriptsRunBy } from '../../src/stages/shell-scripts.js';
import { shell } from '../../src/stages/shell.js';
import type { ShellConfig } from '../../src/stages/shell-config.js';

describe('scriptsRunBy: the scripts a command line runs (words only, nothing expanded)', () => {
  it.each([
    ['node a.mjs', [{ lang: 'js', path: 'a.mjs' }]],
    ['node --max-old-space-size=4096 -r ./setup.cjs src/a.js --epochs 3', [{ lang: 'js', path: 'src/a.js' }]],
    ['tsx scripts/train.ts', [{ lang: 'js', path: 'scripts/train.ts' }]],
    ['npx tsx "my dir/train.ts"', [{ lang: 'js', path: 'my dir/train.ts' }]],
    ['FOO=1 env BAR=2 node a.cjs > out.txt', [{ lang: 'js', path: 'a.cjs' }]],
    ['python train.py --lr 0.1', [{ lang: 'py', path: 'train.py' }]],
    ['python3 -u -W ignore tools/prep.py', [{ lang: 'py', path: 'tools/prep.py' }]],
    ['/usr/bin/python3.11 -m pkg.train --x 1', [{ lang: 'py', module: 'pkg.train' }]],
    ['mkdir -p out && node a.mjs | tee log.txt; python b.py', [{ lang: 'js', path: 'a.mjs' }, { lang: 'py', path: 'b.py' }]],
    ['node a.mjs \\\n  --flag\npython b.py', [{ lang: 'js', path: 'a.mjs' }, { lang: 'py', path: 'b.py' }]],
    ['node -e "require(\'./a.js\')"', []],
    ['python -c "import b"', []],
    ['node $SCRIPT', []],
    ['node ${stages.gen.outputs.x}', []],
    ['python "$(echo a.py)"', []],
    ['echo node a.mjs', []],
    ['node server', []],
    ['cat a.py # python b.py', []],
  ])('%s', (command, expected) => {
    expect(scriptsRunBy(command)).toEqual(expected);
  });

  it('a shell stage reports the scripts of every command line; code_deps: false reports none', () => {
    const config: ShellConfig = { run: ['node a.mjs', 'python -m m'], deps: [], outs: [], env: {} };
    expect(shell.codeEntries!(config)).toEqual([
      { lang: 'js', path: 'a.mjs' },
      { lang: 'py', module: 'm' },
    ]);
    expect(shell.codeEntries!({ ...config, code_deps: false })).toEqual([]);
  });
});
