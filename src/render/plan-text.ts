import { isStale, type Plan, type PlannedStage } from '../core/run/plan-run.js';
import { formatTime } from './numbers.js';
import { reasonText } from './reasons.js';

const list = (names: string[]) => names.join(', ');

/** What a stage's plan line says after its action: the first reason, or for `pending` what decides it. */
export function planHeadline(s: PlannedStage): string {
  if (s.frozen) return `keeps the outputs of ${(s.cachedFrom ?? '?').slice(0, 8)} (frozen: true)`;
  if (s.action === 'restore') return `restore from ${(s.cachedFrom ?? '?').slice(0, 8)}${s.foreign ? madeBy(s) : ''}`;
  if (s.action === 'run') return s.reasons[0] ? reasonText(s.reasons[0]) : '';
  const after = s.after ?? [];
  const whose = after.length === 1 ? `${after[0]}'s` : 'their';
  const decided = `decided after ${list(after)} ${after.length === 1 ? 're-runs' : 're-run'}`;
  if (s.ifUnchanged === 'restore') return `${decided}: restored if ${whose} outputs come out identical`;
  if (s.ifUnchanged === 'run') return `${decided}: runs unless ${whose} new outputs match a cached run`;
  return decided;
}

/** Who made a teammate's entry: `, made by ana on host-a at 2026-12-02 14:03 (commit 1a2b3c4)`. */
function madeBy(s: PlannedStage): string {
  const p = s.manifest?.provenance;
  if (!p) return s.manifest ? `, made elsewhere at ${formatTime(s.manifest.createdAt)}` : '';
  return `, made by ${p.user} on ${p.host} at ${formatTime(s.manifest!.createdAt)}${p.gitCommit ? ` (commit ${p.gitCommit.slice(0, 7)})` : ''}`;
}

/** A stage that runs only because no cache here holds what the lock vouches for. */
const lockedOnly = (s: PlannedStage) => s.action === 'run' && s.reasons[0]?.kind === 'locked-not-cached';

/** The reasons shown under a stage's line: for `pending`, what else changed about the stage itself. */
function details(s: PlannedStage, lockFile?: string): string[] {
  if (lockedOnly(s)) return ['fetch the outputs from a remote (mlpipe run --pull); else `mlpipe run` runs the stage again'];
  const differs = s.lock === 'differs' && lockFile ? [`differs from ${lockFile}`] : s.lock === 'absent' && lockFile ? [`not in ${lockFile} yet`] : [];
  if (s.action === 'restore') return differs;
  const rest = s.action === 'pending' ? s.reasons.filter((r) => r.kind !== 'upstream-reruns') : s.reasons.slice(1);
  return [...rest.map(reasonText), ...differs];
}

const actionLabel = (s: PlannedStage) => (s.frozen ? 'frozen' : s.action === 'restore' ? 'cached' : lockedOnly(s) ? 'locked' : s.action);

/** The plan as people read it (`status`, `run --dry`, and the top of `run`): one line per stage, then the other reasons indented. */
export function renderPlan(plan: Plan): string {
  const width = Math.max(...plan.stages.map((s) => s.name.length), 5);
  const count = (label: string) => plan.stages.filter((s) => actionLabel(s) === label).length;
  const pending = count('pending');
  const locked = count('locked');
  const frozen = count('frozen');
  const lines = [`${plan.pipeline}: ${count('run')} to run, ${pending > 0 ? `${pending} pending, ` : ''}${count('cached')} cached${frozen > 0 ? `, ${frozen} frozen` : ''}${locked > 0 ? `, ${locked} up to date (from ${plan.lockFile}) but not cached here` : ''}`];
  for (const s of plan.stages) {
    lines.push(`  ${s.name.padEnd(width)}  ${actionLabel(s).padEnd(8)} ${planHeadline(s)}`);
    for (const r of details(s, plan.lockFile)) lines.push(`  ${' '.repeat(width)}           ${r}`);
  }
  return lines.join('\n');
}

/** The last line of `mlpipe status`: whether everything is up to date (what `--exit-code` tells by its exit status). */
export function staleLine(plan: Plan): string {
  const stale = plan.stages.filter((s) => isStale(plan, s)).map((s) => s.name);
  const against = plan.lockFile ? ` against ${plan.lockFile}` : '';
  if (stale.length === 0) return `up to date${against}`;
  return `${stale.length} of ${plan.stages.length} ${plan.stages.length === 1 ? 'stage' : 'stages'} stale${against}: ${list(stale)} (mlpipe run updates ${stale.length === 1 ? 'it' : 'them'})`;
}

/**
 * The plan as JSON (`mlpipe status --json`, `run --dry --json`), schemaVersion 2: per stage the
 * action (`run`, `restore` or `pending`), `reason` (the plan line's words) and structured `reasons`.
 */
export function planJson(plan: Plan) {
  return {
    schemaVersion: 2 as const,
    pipeline: plan.pipeline,
    lockFile: plan.lockFile ?? null,
    /** Whether no stage is stale (`status --exit-code` exits 0). */
    upToDate: plan.stages.every((s) => !isStale(plan, s)),
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
      lock: s.lock ?? null,
      stale: isStale(plan, s),
      origin: s.action === 'restore' && s.manifest ? { runId: s.manifest.runId, createdAt: s.manifest.createdAt, foreign: s.foreign === true, ...(s.manifest.provenance ?? {}) } : null,
    })),
  };
}

/** `run --sweep … --dry`: each point's plan under its `--set` items. */
export function renderSweepPlan(points: readonly { set: readonly string[]; plan: Plan }[], search?: string): string {
  const head = `sweep of ${points.length} point(s), nothing run${search ? `; search ${search}: a trial it stops at a rung skips the stages below its trained stage` : ''}`;
  return [head, ...points.map((p) => `[${p.set.join(' ')}]\n${renderPlan(p.plan)}`)].join('\n');
}
