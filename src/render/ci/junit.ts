import type { PipelineSpec } from '../../core/spec/types.js';
import type { RunSummary } from '../../core/run/run-pipeline.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

interface Case {
  name: string;
  time: number;
  failure?: { message: string; body: string };
  skipped?: string;
  /** `<properties>` of the case (JUnit 5 / Jenkins / GitLab read them): the cache state, so names never change with it. */
  properties?: Array<[string, string]>;
  systemOut?: string;
}

/** One run's cases; `label` names a sweep point (its `--set` items), in the suite and the class name. */
export interface JunitSuite {
  spec: PipelineSpec;
  summary: RunSummary;
  label?: string;
}

/**
 * Each stage, and each deploy gate, as a JUnit test case, so CI systems show them. A case's name is
 * the stage's name whatever the cache state (test history keys on it); whether it was restored, and
 * from which run, is in its properties and system-out. A failed gate is one failure: the gate's case
 * fails and the stage's case says it stopped at its gate.
 */
export function renderJunit(spec: PipelineSpec, summary: RunSummary): string {
  return renderJunitSuites([{ spec, summary }]);
}

/** Several runs (a sweep's points, each its own `<testsuite>`) in one JUnit file. */
export function renderJunitSuites(suites: readonly JunitSuite[]): string {
  const rendered = suites.map(renderSuite);
  const sum = (k: 'tests' | 'failures' | 'skipped') => rendered.reduce((n, r) => n + r[k], 0);
  const time = suites.reduce((t, x) => Math.max(t, x.summary.durationMs), 0) / 1000;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mlpipe" tests="${sum('tests')}" failures="${sum('failures')}" skipped="${sum('skipped')}" time="${time.toFixed(3)}">`,
    ...rendered.flatMap((r) => r.lines),
    '</testsuites>',
    '',
  ].join('\n');
}

function casesOf(spec: PipelineSpec, summary: RunSummary): Case[] {
  const cases: Case[] = [];
  for (const s of summary.stages) {
    const time = s.durationMs / 1000;
    const gate = spec.stages[s.name]?.config.gate;
    const gateFailed = typeof gate === 'string' && s.status === 'failed' && (s.error ?? '').startsWith('gate failed');
    const cache: Pick<Case, 'properties' | 'systemOut'> = s.cached
      ? { properties: [['cached', 'true'], ['cached_from', s.cachedFrom ?? '']], systemOut: `restored from the cache (run ${s.cachedFrom ?? 'unknown'})` }
      : s.status === 'completed' || gateFailed ? { properties: [['cached', 'false']] } : {};
    if (gateFailed) cases.push({ name: s.name, time, ...cache, systemOut: `stopped at its gate: ${s.error}` });
    else if (s.status === 'failed' || s.status === 'interrupted') {
      cases.push({ name: s.name, time, failure: { message: s.error ?? s.status, body: (s.lastLines ?? []).join('\n') } });
    } else if (s.status === 'skipped') cases.push({ name: s.name, time, skipped: s.reason });
    else cases.push({ name: s.name, time, ...cache });
    if (typeof gate === 'string') {
      if (s.status === 'completed' || gateFailed) cases.push({ name: `${s.name} gate: ${gate}`, time: 0, failure: gateFailed ? { message: s.error!, body: '' } : undefined });
      else cases.push({ name: `${s.name} gate: ${gate}`, time: 0, skipped: `stage ${s.status}` });
    }
  }
  return cases;
}

function renderSuite({ spec, summary, label }: JunitSuite): { lines: string[]; tests: number; failures: number; skipped: number } {
  const cases = casesOf(spec, summary);
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const classname = `mlpipe.${spec.name}${label ? `[${label}]` : ''}`;
  const body = cases.map((c) => {
    const open = `    <testcase classname="${esc(classname)}" name="${esc(c.name)}" time="${c.time.toFixed(3)}"`;
    const inner: string[] = [];
    if (c.properties) inner.push('      <properties>', ...c.properties.map(([k, v]) => `        <property name="${esc(k)}" value="${esc(v)}"/>`), '      </properties>');
    if (c.failure) inner.push(`      <failure message="${esc(c.failure.message)}">${esc(c.failure.body)}</failure>`);
    if (c.skipped) inner.push(`      <skipped message="${esc(c.skipped)}"/>`);
    if (c.systemOut) inner.push(`      <system-out>${esc(c.systemOut)}</system-out>`);
    return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
  });
  const name = `${spec.name}${label ? ` [${label}]` : ''} ${summary.runId}`;
  const lines = [
    `  <testsuite name="${esc(name)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(summary.durationMs / 1000).toFixed(3)}">`,
    ...body,
    '  </testsuite>',
  ];
  return { lines, tests: cases.length, failures, skipped };
}
