import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/exit-codes.js';
import { repoRoot } from '../helpers/paths.js';

describe("the README's exit-code table", () => {
  it('is the table of src/exit-codes.ts, row for row', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| exit code | meaning |'));
    const rows = [...table.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(rows).toEqual(Object.values(EXIT_CODES).map((r) => [r.code, r.meaning]));
  });
});
