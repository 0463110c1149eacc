import type { Plan } from '../core/run/plan-run.js';
import { shortRunId } from './progress/format.js';

/** The plan as people read it: one line per stage, then the other reasons indented. */
export function renderPlan(plan: Plan): string {
  const width = Math.max(...plan.stages.map((s) => s.name.length), 5);
  const lines = [`${plan.pipeline}: ${plan.stages.filter((s) => s.action === 'run').length} to run, ${plan.stages.filter((s) => s.action === 'restore').length} cached`];
  for (const s of plan.stages) {
    const what = s.action === 'restore' ? `cached   restore from ${shortRunId(s.cachedFrom ?? '?')}` : `run      ${s.reasons[0]}`;
    lines.push(`  ${s.name.padEnd(width)}  ${what}`);
    for (const r of s.reasons.slice(1)) lines.push(`  ${' '.repeat(width)}           ${r}`);
  }
  return lines.join('\n');
}

/** The plan as JSON (`mlpipe status --json`, `run --dry --json`). */
export function planJson(plan: Plan) {
  return {
    schemaVersion: 1 as const,
    pipeline: plan.pipeline,
    stages: plan.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      action: s.action,
      reasons: s.reasons,
      cachedFrom: s.cachedFrom ?? null,
      key: s.key ?? null,
      needs: s.needs,
    })),
  };
}
