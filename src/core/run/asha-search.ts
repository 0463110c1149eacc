import { createHash } from 'node:crypto';
import { UserError } from '../../errors.js';
import type { PipelineSpec } from '../spec/types.js';
import type { TrialControl } from '../stage-kind.js';
import { promotes, rungEpochs, type AshaSettings, type SearchDirection } from './asha-rungs.js';

/** `run --search asha …`: what the search optimizes and how hard it prunes. */
export interface SearchSettings extends AshaSettings {
  method: 'asha';
  /** `--objective` as given (`val_accuracy` or `train.val_accuracy`); absent: the train stage's headline validation metric. */
  objective?: string;
  /** `--direction`; absent: from the metric's name (`directionOf`). */
  direction?: SearchDirection;
}

/** The train stage's final metric that says at which epoch a pruned trial stopped. */
export const PRUNED_EPOCH = 'pruned_epoch';
/** Validation metrics tried in turn for the default objective (as `compare sweep` ranks). */
const HEADLINE = ['val_accuracy', 'val_f1', 'val_auc', 'val_r2', 'val_rmse', 'val_mae', 'val_mse', 'val_log_loss', 'val_loss'];
const RUNG_RE = /^rung(\d+)_(.+)$/;
const rungMetric = (epoch: number, objective: string) => `rung${epoch}_${objective}`;

interface TrialState {
  /** Rung epoch → the objective's value then. */
  values: Map<number, number>;
  ended: boolean;
  prunedAt?: number;
}

/**
 * The train stage a search prunes: the one `--objective stage.metric` names, else the spec's only
 * train stage. A UserError says why there is none.
 */
export function searchedStage(spec: PipelineSpec, objective?: string): string {
  const trains = spec.order.filter((n) => spec.stages[n]!.kind === 'train');
  const dot = objective?.indexOf('.') ?? -1;
  if (objective && dot > 0) {
    const stage = objective.slice(0, dot);
    if (spec.stages[stage]?.kind === 'train') return stage;
    throw new UserError(`--objective ${objective}: ${spec.stages[stage] ? `stage ${stage} is of kind ${spec.stages[stage]!.kind}` : `${spec.name} has no stage ${stage}`}; --search prunes the epochs of a train stage`, { hint: trains.length ? `e.g. --objective ${trains[0]}.val_accuracy` : 'add a train stage, or sweep without --search' });
  }
  if (trains.length === 1) return trains[0]!;
  if (trains.length === 0) throw new UserError(`--search asha prunes the epochs of a train stage, and ${spec.name} has none`, { hint: 'run a random search without --search (--trials N), or a grid' });
  throw new UserError(`--search asha: ${spec.name} has several train stages (${trains.join(', ')}); say which one to judge with --objective STAGE.METRIC`, { hint: `e.g. --objective ${trains[0]}.val_accuracy` });
}

/**
 * Asynchronous successive halving over the trials of one sweep, made deterministic: trial i is
 * judged at a rung against the trials before it in sweep order (each of them having reached that
 * rung or ended), never against whichever happened to finish first, so the same trials with the same
 * metrics are pruned at the same epochs however many run at once. A trial waits at a rung for the
 * earlier ones; they started before it, so waits never form a cycle.
 */
export class AshaSearch {
  private readonly trials: TrialState[];
  private readonly waiters = new Set<() => void>();
  private objective: string | undefined;

  constructor(
    count: number,
    private readonly settings: SearchSettings,
    /** The direction of a metric when `--direction` is not given. */
    private readonly directionOf: (metric: string) => SearchDirection,
    private readonly signal: AbortSignal,
  ) {
    this.trials = Array.from({ length: count }, () => ({ values: new Map(), ended: false }));
    const dot = settings.objective?.indexOf('.') ?? -1;
    this.objective = settings.objective === undefined ? undefined : settings.objective.slice(dot + 1);
  }

  /** What trial `i`'s cache key adds: the settings, and the trials it is judged against (those before it). */
  identity(i: number, grid: readonly (readonly string[])[]): Record<string, unknown> {
    const s = this.settings;
    const before = createHash('sha256').update(JSON.stringify(grid.slice(0, i))).digest('hex').slice(0, 16);
    return { method: s.method, objective: s.objective ?? null, direction: s.direction ?? null, min_epochs: s.minEpochs, reduction: s.reduction, trial: i, before };
  }

  /** The hook trial `i`'s train stage calls after each epoch. */
  control(i: number): TrialControl {
    return {
      epochEnded: (epoch, metrics, final) => this.epochEnded(i, epoch, metrics, final),
      resultMetrics: () => this.resultMetrics(i),
    };
  }

  /** The objective (the train stage's metric key, e.g. `val_accuracy`) once known, and its direction. */
  get resolved(): { objective: string; direction: SearchDirection } | undefined {
    return this.objective === undefined ? undefined : { objective: this.objective, direction: this.direction(this.objective) };
  }

  /** Trial `i`'s epoch at which it was pruned, if it was. */
  prunedAt(i: number): number | undefined {
    return this.trials[i]!.prunedAt;
  }

  /**
   * Trial `i`'s train stage finished (ran, restored or failed) with these final metrics: a restored
   * one brings its rung values and pruned epoch back from the cache. Either way the trials after it
   * stop waiting for it.
   */
  finished(i: number, metrics: Readonly<Record<string, number>>): void {
    const t = this.trials[i]!;
    for (const [key, value] of Object.entries(metrics)) {
      const m = RUNG_RE.exec(key);
      if (!m) continue;
      this.objective ??= m[2];
      if (m[2] === this.objective && !t.values.has(Number(m[1]))) t.values.set(Number(m[1]), value);
    }
    if (metrics[PRUNED_EPOCH] !== undefined) t.prunedAt = metrics[PRUNED_EPOCH];
    if (this.objective === undefined) this.objective = defaultObjective(Object.keys(metrics));
    this.end(i);
  }

  /** Trial `i` will report nothing more (its run ended, whatever became of its train stage). */
  end(i: number): void {
    this.trials[i]!.ended = true;
    this.changed();
  }

  private async epochEnded(i: number, epoch: number, metrics: Readonly<Record<string, number>>, final: boolean): Promise<'continue' | 'stop'> {
    const objective = this.objectiveIn(metrics);
    if (!rungEpochs(this.settings, epoch + 1).includes(epoch)) return 'continue';
    const t = this.trials[i]!;
    const value = metrics[objective]!;
    t.values.set(epoch, value);
    this.changed();
    if (final) return 'continue';
    await this.earlierAt(i, epoch);
    const values = this.trials.slice(0, i + 1).flatMap((u) => (u.values.has(epoch) ? [u.values.get(epoch)!] : []));
    if (promotes(value, values, this.settings.reduction, this.direction(objective))) return 'continue';
    t.prunedAt = epoch;
    return 'stop';
  }

  private resultMetrics(i: number): Record<string, number> {
    const t = this.trials[i]!;
    const out: Record<string, number> = {};
    if (this.objective !== undefined) for (const [epoch, value] of t.values) out[rungMetric(epoch, this.objective)] = value;
    if (t.prunedAt !== undefined) out[PRUNED_EPOCH] = t.prunedAt;
    return out;
  }

  private direction(objective: string): SearchDirection {
    return this.settings.direction ?? this.directionOf(objective);
  }

  /** The objective's key in an epoch's metrics (resolving the default on first sight); a UserError when the stage does not log it. */
  private objectiveIn(metrics: Readonly<Record<string, number>>): string {
    const names = Object.keys(metrics);
    this.objective ??= defaultObjective(names);
    if (this.objective !== undefined && names.includes(this.objective)) return this.objective;
    const validation = names.filter((n) => n.startsWith('val_'));
    if (this.settings.objective === undefined || validation.length === 0) {
      throw new UserError(`--search asha judges trials on a validation metric per epoch, and this train stage logs none (it logs ${names.join(', ')})`, {
        hint: 'give the train stage validation data: validation_split > 0 (not with kfold), or a validation split in the preprocess stage',
      });
    }
    throw new UserError(`--objective ${this.settings.objective}: the train stage logs no ${this.objective} per epoch; its validation metrics are ${validation.join(', ')}`, {
      hint: `choose one of them${this.objective?.startsWith('val_') ? `, or add ${this.objective.slice(4)} to the train stage's metrics` : ' (selection is on validation data, never test)'}`,
    });
  }

  /** Resolves once every trial before `i` has a value at rung `epoch` or has ended; rejects when the sweep is interrupted. */
  private earlierAt(i: number, epoch: number): Promise<void> {
    const ready = () => this.trials.slice(0, i).every((t) => t.ended || t.values.has(epoch));
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.signal.aborted && !ready()) return;
        this.waiters.delete(check);
        this.signal.removeEventListener('abort', check);
        if (this.signal.aborted) reject(this.signal.reason instanceof Error ? this.signal.reason : new Error('the sweep was interrupted'));
        else resolve();
      };
      this.waiters.add(check);
      this.signal.addEventListener('abort', check, { once: true });
    });
  }

  private changed(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** The first HEADLINE metric among `names`, else their first val_* one. */
function defaultObjective(names: readonly string[]): string | undefined {
  return HEADLINE.find((n) => names.includes(n)) ?? names.find((n) => n.startsWith('val_'));
}

/** The trial a search picks: the best objective value among the trials that completed without being pruned (the first on ties); undefined when none has one. */
export function bestTrial(trials: readonly { status: string; pruned?: number; metrics: Readonly<Record<string, number>> }[], objective: string, direction: SearchDirection): number | undefined {
  let best: number | undefined;
  trials.forEach((t, i) => {
    const v = t.metrics[objective];
    if (t.status !== 'completed' || t.pruned !== undefined || v === undefined || !Number.isFinite(v)) return;
    const b = best === undefined ? undefined : trials[best]!.metrics[objective]!;
    if (b === undefined || (direction === 'max' ? v > b : v < b)) best = i;
  });
  return best;
}
