import type { Tracker } from '../tracker/types.js';
import { isImportedRun } from './imported-runs.js';
import type { Plan } from './plan-run.js';

/** Marks the restores whose entry a run this tracker did not record itself made (a teammate's): `status` says where they came from. */
export async function withForeignOrigins(plan: Plan, tracker: Tracker): Promise<Plan> {
  const stages = await Promise.all(
    plan.stages.map(async (s) => {
      if (s.action !== 'restore' || !s.cachedFrom) return s;
      const run = await tracker.getRun(s.cachedFrom);
      return !run || isImportedRun(run) ? { ...s, foreign: true } : s;
    }),
  );
  return { ...plan, stages };
}
