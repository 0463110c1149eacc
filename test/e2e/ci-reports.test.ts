import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runCli } from '../helpers/cli.js';
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
    expect(xml).toMatch(/<testcase classname="mlpipe.ci" name="ok" time="[\d.]+">\n\s*<properties>\n\s*<property name="cached" value="false"\/>/);
    expect(xml).toContain('<failure message="command exited with code 4">something &lt;broke&gt; &amp; died</failure>');
    expect(xml).toContain('<skipped message="upstream bad failed"/>');
    const md = await readFile(ws.path('summary.md'), 'utf8');
    expect(md).toMatch(/^### ❌ mlpipe run `r-[0-9a-f]+` of `ci`: failed in/);
    expect(md).toContain('| ok | completed | ran |');
    expect(md).toContain('| ok.accuracy | 0.900000 |');
  });

  it('names each case after its stage whatever the cache state; a restored stage says so in a property', async () => {
    const first = await readFile(ws.path('reports/junit.xml'), 'utf8');
    const r = await runCli(['run', 'pipeline.yaml', '--junit', 'reports/again.xml'], { cwd: ws.dir });
    expect(r.code).toBe(1);
    const again = await readFile(ws.path('reports/again.xml'), 'utf8');
    const names = (xml: string) => [...xml.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1]);
    expect(names(again)).toEqual(names(first));
    expect(names(again)).toEqual(['ok', 'bad', 'after']);
    expect(first).toContain('<property name="cached" value="false"/>');
    expect(again).toMatch(/<property name="cached" value="true"\/>\n\s*<property name="cached_from" value="r-[0-9a-f]+"\/>/);
    expect(again).toMatch(/<system-out>restored from the cache \(run r-[0-9a-f]+\)<\/system-out>/);
  });
});

describe('CI reports of a failed deploy gate', () => {
  it('count the gate failure once (the gate case), exit 3', async () => {
    const iris = await makeWorkspace();
    try {
      await cp(join(repoRoot, 'pipelines', 'iris'), iris.path('iris'), { recursive: true });
      const r = await runCli(['run', 'iris/pipeline.yaml', '--set', 'params.epochs=2', '--set', 'deploy.gate=accuracy > 2', '--junit', 'junit.xml'], {
        cwd: iris.dir,
        env: { MLPIPE_BACKEND: 'cpu', GITHUB_STEP_SUMMARY: iris.path('summary.md') },
        timeoutMs: 300_000,
      });
      expect(r.code, r.stderr).toBe(3);
      const xml = await readFile(iris.path('junit.xml'), 'utf8');
      expect(xml).toContain('<testsuites name="mlpipe" tests="5" failures="1" skipped="0"');
      expect(xml.match(/<failure /g)).toHaveLength(1);
      expect(xml).toMatch(/name="deploy gate: accuracy &gt; 2" time="0.000">\n\s*<failure message="gate failed: accuracy &gt; 2 \(accuracy = [\d.]+\)">/);
      expect(xml).toMatch(/name="deploy" time="[\d.]+">[\s\S]*?<system-out>stopped at its gate: gate failed/);
      const md = await readFile(iris.path('summary.md'), 'utf8');
      expect(md).toMatch(/^### ⛔ mlpipe run/);
      expect(md.match(/gate failed/g)).toHaveLength(1);
    } finally {
      await iris.cleanup();
    }
  }, 360_000);
});

describe('CI reports of a sweep', () => {
  it('writes one JUnit suite and one summary section per point, in grid order, case names the stages', async () => {
    const sweep = await makeWorkspace({
      'pipeline.yaml': `name: sw
params:
  x: 1
stages:
  score:
    run: test \${params.x} -lt 3
`,
    });
    try {
      const r = await runCli(['run', 'pipeline.yaml', '--sweep', 'params.x=1,5,2', '--jobs', '1', '--junit', 'junit.xml'], { cwd: sweep.dir, env: { GITHUB_STEP_SUMMARY: sweep.path('summary.md') } });
      expect(r.code).toBe(1);
      const xml = await readFile(sweep.path('junit.xml'), 'utf8');
      expect(xml).toContain('<testsuites name="mlpipe" tests="3" failures="1" skipped="0"');
      expect([...xml.matchAll(/<testsuite name="([^"]*) r-[0-9a-f]+"/g)].map((m) => m[1])).toEqual(['sw [params.x=1]', 'sw [params.x=5]', 'sw [params.x=2]']);
      expect([...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
        'mlpipe.sw[params.x=1] score',
        'mlpipe.sw[params.x=5] score',
        'mlpipe.sw[params.x=2] score',
      ]);
      const md = await readFile(sweep.path('summary.md'), 'utf8');
      expect(md.match(/^### /gm)).toHaveLength(3);
      expect(md).toMatch(/^### ❌ mlpipe run `r-[0-9a-f]+` of `sw` \(params.x=5\): failed/m);
    } finally {
      await sweep.cleanup();
    }
  });
});
