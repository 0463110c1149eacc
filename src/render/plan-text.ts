import type { Plan, PlannedStage } from '../core/run/plan-run.js';
import { reasonText } from './reasons.js';

const list = (names: string[]) => names.join(', ');

/** What a stage's plan line says after its action: the first reason, or for `pending` what decides it. */
export function planHeadline(s: PlannedStage): string {
  if (s.frozen) return `keeps the outputs of ${(s.cachedFrom ?? '?').slice(0, 8)} (frozen: true)`;
  if (s.action === 'restore') return `restore from ${(s.cachedFrom ?? '?').slice(0, 8)}`;
  if (s.action === 'run') return s.reasons[0] ? reasonText(s.reasons[0]) : '';
  const after = s.after ?? [];
  const whose = after.length === 1 ? `${after[0]}'s` : 'their';
  const decided = `decided after ${list(after)} ${after.length === 1 ? 're-runs' : 're-run'}`;
  if (s.ifUnchanged === 'restore') return `${decided}: restored if ${whose} outputs come out identical`;
  if (s.ifUnchanged === 'run') return `${decided}: runs unless ${whose} new outputs match a cached run`;
  return decided;
}

/** The reasons shown under a stage's line: for `pending`, what else changed about the stage itself. */
function details(s: PlannedStage): string[] {
  if (s.action === 'restore') return [];
  const rest = s.action === 'pending' ? s.reasons.filter((r) => r.kind !== 'upstream-reruns') : s.reasons.slice(1);
  return rest.map(reasonText);
}

/** The plan as people read it (`status`, `run --dry`, and the top of `run`): one line per stage, then the other reasons indented. */
export function renderPlan(plan: Plan): string {
  const width = Math.max(...plan.stages.map((s) => s.name.length), 5);
  const count = (action: PlannedStage['action']) => plan.stages.filter((s) => s.action === action).length;
  const pending = count('pending');
  const frozen = plan.stages.filter((s) => s.frozen).length;
  const lines = [`${plan.pipeline}: ${count('run')} to run, ${pending > 0 ? `${pending} pending, ` : ''}${count('restore') - frozen} cached${frozen > 0 ? `, ${frozen} frozen` : ''}`];
  for (const s of plan.stages) {
    const action = s.frozen ? 'frozen' : s.action === 'restore' ? 'cached' : s.action;
    lines.push(`  ${s.name.padEnd(width)}  ${action.padEnd(8)} ${planHeadline(s)}`);
    for (const r of details(s)) lines.push(`  ${' '.repeat(width)}           ${r}`);
  }
  return lines.join('\n');
}

/**
 * The plan as JSON (`mlpipe status --json`, `run --dry --json`), schemaVersion 2: per stage the
 * action (`run`, `restore` or `pending`), `reason` (the plan line's words) and structured `reasons`.
 */
export function planJson(plan: Plan) {
  return {
    schemaVersion: 2 as const,
    pipeline: plan.pipeline,
    stages: plan.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      action: s.action,
      reason: s.action === 'pending' || !s.reasons[0] ? planHeadline(s) : reasonText(s.reasons[0]),
      frozen: s.frozen === true,
      reasons: s.reasons,
      after: s.after ?? null,
      ifUnchanged: s.ifUnchanged ?? null,
      cachedFrom: s.cachedFrom ?? null,
      key: s.key ?? null,
      needs: s.needs,
    })),
  };
}
