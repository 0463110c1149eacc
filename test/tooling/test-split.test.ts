import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';
import { e2eFolders } from '../../vitest.config.js';

// The split rule (README, Development): what needs the build lives in an e2e folder; and no test
// blocks its worker's event loop on a child process (vitest 3's worker RPC then times out after
// 60 s, "Timeout calling onTaskUpdate", and the run exits 1 with every test passed).

/** What only an e2e test may use: the built CLI, dist/, the oclif manifest. */
const NEEDS_BUILD = /helpers\/cli(\.js)?['"]|bin\/run\.js|['"/]dist\/|oclif\.manifest\.json/;
/** Child processes that block the event loop until they exit. */
const BLOCKING = /\b(spawnSync|execSync|execFileSync)\b/;

const self = 'test/tooling/test-split.test.ts';
const files = readdirSync(join(repoRoot, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join('test', f));
const isE2e = (file: string) => e2eFolders.some((f) => file.startsWith(`${f}/`));

/** `file` and the test/ files it imports, transitively. */
function closure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(repoRoot, file), 'utf8');
  for (const [, spec] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
    const target = relative(repoRoot, resolve(join(repoRoot, dirname(file)), spec!.replace(/\.js$/, '.ts')));
    if (target.startsWith('test/') && files.includes(target)) closure(target, seen);
  }
  return seen;
}

/** Unit test files that reach the build (directly or through a helper), with the file that does. */
export function unitFilesNeedingBuild(testFiles: string[], read: (f: string) => string, reach: (f: string) => Iterable<string>): string[] {
  return testFiles.filter((f) => f.endsWith('.test.ts') && !isE2e(f)).flatMap((f) => [...reach(f)].filter((g) => NEEDS_BUILD.test(read(g))).map((g) => `${f} (through ${g})`));
}

const read = (f: string) => readFileSync(join(repoRoot, f), 'utf8');

describe('the test split', () => {
  it('unit tests never use the built CLI, dist/ or the oclif manifest (those belong in an e2e folder)', () => {
    expect(files.filter((f) => f.endsWith('.test.ts') && !isE2e(f)).length).toBeGreaterThan(20);
    expect(unitFilesNeedingBuild(files.filter((f) => f !== self), read, (f) => closure(f))).toEqual([]);
  });

  it('would catch a unit test that spawns the CLI through a helper', () => {
    const fake: Record<string, string> = { 'test/core/x.test.ts': "import { h } from './h.js';", 'test/core/h.ts': "import { runCli } from '../helpers/cli.js';" };
    expect(unitFilesNeedingBuild(Object.keys(fake), (f) => fake[f]!, (f) => [f, 'test/core/h.ts'])).toEqual(['test/core/x.test.ts (through test/core/h.ts)']);
  });

  it('no test blocks its worker on a child process (spawnSync, execSync, execFileSync)', () => {
    const blocking = files.filter((f) => f !== 'test/global-setup.ts' && f !== self && BLOCKING.test(read(f)));
    expect(blocking).toEqual([]);
  });
});
