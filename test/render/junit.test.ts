import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/render/ci/junit.js';
import type { PipelineSpec } from '../../src/core/spec/types.js';
import type { RunSummary } from '../../src/core/run/run-pipeline.js';
import type { StageSummary } from '../../src/core/run/events.js';

const GATE = 'accuracy >= 0.9';
const spec = { name: 'iris', stages: { prepare: { config: {} }, deploy: { config: { gate: GATE } } } } as unknown as PipelineSpec;

function stage(over: Partial<StageSummary>): StageSummary {
  return { name: 'prepare', kind: 'preprocess', status: 'completed', cached: false, reason: '', reasons: [], durationMs: 1200, metrics: {}, ...over };
}

function summary(stages: StageSummary[]): RunSummary {
  return { schemaVersion: 1, runId: 'r-0000000000aa', pipeline: 'iris', status: 'completed', params: {}, backend: null, durationMs: 2000, stages, metrics: {}, artifacts: [], exitCode: 0 };
}

const names = (xml: string) => [...xml.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1]);

describe('renderJunit', () => {
  it('names a case after its stage whatever the cache state; the cache state is a property and system-out', () => {
    const ran = renderJunit(spec, summary([stage({})]));
    const restored = renderJunit(spec, summary([stage({ cached: true, cachedFrom: 'r-1234567890ab', durationMs: 3 })]));
    expect(names(ran)).toEqual(['prepare']);
    expect(names(restored)).toEqual(['prepare']);
    expect(ran).toContain('<property name="cached" value="false"/>');
    expect(restored).toContain('<property name="cached" value="true"/>');
    expect(restored).toContain('<property name="cached_from" value="r-1234567890ab"/>');
    expect(restored).toContain('<system-out>restored from the cache (run r-1234567890ab)</system-out>');
  });

  it('counts a failed gate once: the gate case fails, the stage case says it stopped there', () => {
    const error = `gate failed: ${GATE} (accuracy = 0.5)`;
    const xml = renderJunit(spec, { ...summary([stage({}), stage({ name: 'deploy', kind: 'deploy', status: 'failed', error })]), status: 'failed', exitCode: 3 });
    expect(xml).toContain('<testsuites name="mlpipe" tests="3" failures="1" skipped="0"');
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain(`name="deploy gate: accuracy &gt;= 0.9" time="0.000">\n      <failure message="gate failed: accuracy &gt;= 0.9 (accuracy = 0.5)">`);
    expect(xml).toContain('<system-out>stopped at its gate: gate failed: accuracy &gt;= 0.9 (accuracy = 0.5)</system-out>');
  });

  it('a stage that failed before its gate is one failure and its gate is skipped', () => {
    const xml = renderJunit(spec, summary([stage({ name: 'deploy', kind: 'deploy', status: 'failed', error: 'model file missing' })]));
    expect(xml).toContain('tests="2" failures="1" skipped="1"');
    expect(xml).toContain('<skipped message="stage failed"/>');
  });
});
