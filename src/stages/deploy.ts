import { existsSync } from 'node:fs';
import { f, type Infer } from '../schema/fields.js';
import { hashPath } from '../core/hash/hash-path.js';
import { uncachedHasher } from '../core/hash/stat-cache.js';
import { evaluate, ExprSyntaxError, formatUsed, parseCondition } from '../core/expr.js';
import { GateFailedError, StageFailedError } from '../errors.js';
import type { ModelVersion } from '../core/tracker/types.js';
import type { StageContext, StageKind, StageResult } from '../core/stage-kind.js';
import { checkQuantize, quantizeFields, quantizeForDeploy } from './deploy-quantize.js';

/** The resolved `with` block of a deploy stage, derived from its declaration below. */
export type DeployConfig = Infer<typeof config>;

/** What a passed gate records in `registration.json` beside the registration (core/run/model-registration.ts). */
export type GateRecord = { expression: string; passed: true; values: Record<string, number>; assumed: string[] } | null;

const NAME = '^[A-Za-z0-9_.-]+$';
const PRODUCTION = 'production';

const config = f.object(
  'Checks a gate over upstream metrics; the runner then exports the model to runs/models/NAME/VERSION and registers it.',
  {
    model: f.path('The trained model folder, usually ${stages.train.outputs.model}.'),
    name: f.string('The registered model name.', { pattern: NAME }),
    gate: f.string(
      'A condition over upstream metrics that must hold, e.g. "accuracy >= 0.9 and accuracy >= production.accuracy - 0.005".',
    ),
    alias: f.string('An alias (e.g. production) moved to the registered version.', { pattern: NAME }),
    description: f.string('What this model version is, shown by models list/show (mlpipe models describe changes it later).'),
    ...quantizeFields,
  },
  { required: ['model', 'name'] },
);

/**
 * Upstream metrics by name: `stage.key`, or a bare `key` from the nearest upstream stage that has it,
 * evaluation stages (named `evaluate` or `eval…`) first.
 */
export function resolveUpstreamMetrics(upstream: Record<string, Record<string, number>>): Record<string, number> {
  const stages = Object.keys(upstream).reverse();
  const isEval = (s: string) => /^eval/i.test(s);
  const order = [...stages.filter(isEval), ...stages.filter((s) => !isEval(s))];
  const bare: Record<string, number> = {};
  for (const stage of order) for (const [key, value] of Object.entries(upstream[stage])) if (!(key in bare)) bare[key] = value;
  const qualified: Record<string, number> = {};
  for (const stage of stages) for (const [key, value] of Object.entries(upstream[stage])) qualified[`${stage}.${key}`] = value;
  const sorted = (o: Record<string, number>) => Object.keys(o).sort();
  return Object.fromEntries([...sorted(bare).map((k) => [k, bare[k]]), ...sorted(qualified).map((k) => [k, qualified[k]])]);
}

function checkGate(ctx: StageContext<DeployConfig>, metrics: Record<string, number>, production: ModelVersion | undefined): GateRecord {
  const text = ctx.config.gate?.trim();
  if (!text) return null;
  const expr = parseCondition(text);
  const prefix = `${PRODUCTION}.`;
  const known = [...Object.keys(metrics), ...Object.keys(production?.metrics ?? {}).map((k) => prefix + k)];
  const result = evaluate(expr, (n) => (n.startsWith(prefix) && production ? production.metrics[n.slice(prefix.length)] : metrics[n]), {
    known,
    references: [PRODUCTION],
    assumeTrue: production ? undefined : (n) => n.startsWith(prefix),
  });
  for (const a of result.assumed) ctx.log(`gate: ${a} passes: no version of ${ctx.config.name} holds the ${PRODUCTION} alias yet`);
  if (result.value !== true) throw new GateFailedError(text, result.used, `gate failed: ${text} (${formatUsed(result.used)})`);
  ctx.log(`gate passed: ${text}${Object.keys(result.used).length ? ` (${formatUsed(result.used)})` : ''}`);
  return { expression: text, passed: true, values: result.used, assumed: result.assumed };
}

async function deployRun(ctx: StageContext<DeployConfig>): Promise<StageResult> {
  const { name, alias, model, description } = ctx.config;
  const metrics = resolveUpstreamMetrics(ctx.upstreamMetrics);
  const gate = checkGate(ctx, metrics, await ctx.models.getModel(name, PRODUCTION));
  if (!existsSync(model)) throw new StageFailedError(ctx.stage, `model ${model} does not exist; point "model" at the train stage's output`);
  const quantized = ctx.config.quantize ? await quantizeForDeploy(ctx, ctx.outputs.quantized!) : undefined;
  const source = quantized ? ctx.outputs.quantized! : model;
  const artifactHash = (await hashPath(source, uncachedHasher)).digest;
  const extra = { gate, ...(quantized ? { quantize: quantized.record } : {}) };
  return { metrics: quantized?.metrics, register: { name, source, artifactHash, metrics: { ...metrics, ...quantized?.metrics }, alias, description, record: { path: ctx.outputs.registration, extra } } };
}

/**
 * `uses: deploy`: checks the gate and returns what to register; the runner exports, registers and moves
 * the alias (one writer of the registry). Never cached; registering the same artifact again reuses its version.
 */
export const deploy: StageKind<DeployConfig> = {
  kind: 'deploy',
  version: 1,
  description: 'Checks a metrics gate, then exports and registers the model (optionally moving an alias such as production).',
  config,
  cache: false,
  coordinatorOnly: true,
  outputs: (c) => ({ registration: { path: 'registration.json', location: 'stage' }, ...(c.quantize ? { quantized: { path: 'model', location: 'stage' as const } } : {}) }),
  waitsFor: (c) => (c.gate ? ['evaluate'] : []),
  check: (c) => {
    const quantizeIssues = checkQuantize(c);
    if (!c.gate) return quantizeIssues;
    try {
      parseCondition(c.gate);
      return quantizeIssues;
    } catch (err) {
      if (!(err instanceof ExprSyntaxError)) throw err;
      return [...quantizeIssues, { path: ['gate'], message: `expected a comparison over metrics, got "${c.gate}" (${err.reason} at column ${err.column})`, hint: 'e.g. gate: "accuracy >= 0.9" or "f1 >= production.f1 - 0.005"' }];
    }
  },
  run: deployRun,
};
