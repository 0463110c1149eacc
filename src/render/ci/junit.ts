import type { PipelineSpec } from '../../core/spec/types.js';
import type { RunSummary } from '../../core/run/run-pipeline.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

interface Case {
  name: string;
  time: number;
  failure?: { message: string; body: string };
  skipped?: string;
}

/** Each stage, and each deploy gate, as a JUnit test case, so CI systems show them. */
export function renderJunit(spec: PipelineSpec, summary: RunSummary): string {
  const cases: Case[] = [];
  for (const s of summary.stages) {
    const time = s.durationMs / 1000;
    if (s.status === 'failed' || s.status === 'interrupted') {
      cases.push({ name: s.name, time, failure: { message: s.error ?? s.status, body: (s.lastLines ?? []).join('\n') } });
    } else if (s.status === 'skipped') cases.push({ name: s.name, time, skipped: s.reason });
    else cases.push({ name: s.cached ? `${s.name} (cached from ${s.cachedFrom})` : s.name, time });
    const gate = spec.stages[s.name]?.config.gate;
    if (typeof gate === 'string') {
      const gateFailed = s.status === 'failed' && (s.error ?? '').startsWith('gate failed');
      if (s.status === 'completed' || gateFailed) cases.push({ name: `${s.name} gate: ${gate}`, time: 0, failure: gateFailed ? { message: s.error!, body: '' } : undefined });
      else cases.push({ name: `${s.name} gate: ${gate}`, time: 0, skipped: `stage ${s.status}` });
    }
  }
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const body = cases.map((c) => {
    const open = `    <testcase classname="${esc(`mlpipe.${spec.name}`)}" name="${esc(c.name)}" time="${c.time.toFixed(3)}"`;
    if (c.failure) return `${open}>\n      <failure message="${esc(c.failure.message)}">${esc(c.failure.body)}</failure>\n    </testcase>`;
    if (c.skipped) return `${open}>\n      <skipped message="${esc(c.skipped)}"/>\n    </testcase>`;
    return `${open}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mlpipe" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(summary.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${esc(`${spec.name} ${summary.runId}`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(summary.durationMs / 1000).toFixed(3)}">`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
