import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runJson } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace();
});
afterAll(() => ws?.cleanup());

// The flag is parsed before any model is looked up, so an empty folder is enough.
describe('--threshold with a bad value is a usage error (exit 2), not a bug', () => {
  for (const [command, value] of [['serve', '2'], ['serve', 'abc'], ['predict', '0'], ['predict', 'high']] as const) {
    it(`${command} --threshold ${value}`, async () => {
      const args = command === 'serve' ? ['serve', 'iris@1', '--port', '0'] : ['predict', 'iris@1', '--input', 'x.csv'];
      const r = await runCli([...args, '--threshold', value], { cwd: ws.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--threshold expects a probability between 0 and 1 (exclusive), got "${value}"`);
      expect(r.stderr).toContain('Hint: e.g. --threshold 0.7');
      expect(r.stderr).not.toContain('this is a bug');
    });
  }

  it('--json reports exit code 2 in the error object', async () => {
    const r = await runJson(['predict', 'iris@1', '--input', 'x.csv', '--threshold', '1.5'], { cwd: ws.dir });
    expect(r.code).toBe(2);
    expect(r.json.error.exitCode).toBe(2);
  });
});
