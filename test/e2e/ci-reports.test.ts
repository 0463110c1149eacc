import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { runCli } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

const files = {
  'pipeline.yaml': `name: ci
stages:
  ok:
    run: |
      mkdir -p out && echo '{"accuracy": 0.9}' > out/m.json
    outs: [out/m.json]
    metrics: out/m.json
  bad:
    run: |
      echo 'something <broke> & died' && exit 4
  after:
    run: echo never
    needs: [bad]
`,
};

let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace(files);
});
afterAll(async () => ws.cleanup());

describe('CI reports', () => {
  it('writes each stage as a JUnit test case and a markdown step summary', async () => {
    const r = await runCli(['run', 'pipeline.yaml', '--junit', 'reports/junit.xml'], { cwd: ws.dir, env: { GITHUB_STEP_SUMMARY: ws.path('summary.md') } });
    expect(r.code).toBe(1);
    const xml = await readFile(ws.path('reports/junit.xml'), 'utf8');
    expect(xml).toContain('<testsuites name="mlpipe" tests="3" failures="1" skipped="1"');
    expect(xml).toMatch(/<testcase classname="mlpipe.ci" name="ok" time="[\d.]+"\/>/);
    expect(xml).toContain('<failure message="command exited with code 4">something &lt;broke&gt; &amp; died</failure>');
    expect(xml).toContain('<skipped message="upstream bad failed"/>');
    const md = await readFile(ws.path('summary.md'), 'utf8');
    expect(md).toMatch(/^### ❌ mlpipe run `r-[0-9a-f]+` of `ci`: failed in/);
    expect(md).toContain('| ok | completed | ran |');
    expect(md).toContain('| ok.accuracy | 0.900000 |');
  });
});
