import { randomBytes } from 'node:crypto';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { f } from '../schema/fields.js';
import { canonicalJson } from '../core/hash/canonical-json.js';
import { hashPath } from '../core/hash/hash-path.js';
import { uncachedHasher } from '../core/hash/stat-cache.js';
import { evaluate, ExprSyntaxError, formatUsed, parseCondition } from '../core/expr.js';
import { GateFailedError, StageFailedError } from '../errors.js';
import type { ModelRegistry, ModelVersion } from '../core/tracker/types.js';
import type { StageContext, StageKind } from '../core/stage-kind.js';

/** The resolved `with` block of a deploy stage. */
export interface DeployConfig {
  model: string;
  name: string;
  gate?: string;
  alias?: string;
}

/** What `registration.json` holds (schemaVersion 1). */
export interface Registration {
  schemaVersion: 1;
  name: string;
  version: number;
  /** false when this artifact was already registered and that version was reused. */
  created: boolean;
  artifactHash: string;
  path: string;
  alias: string | null;
  gate: { expression: string; passed: true; values: Record<string, number>; assumed: string[] } | null;
}

const NAME = '^[A-Za-z0-9_.-]+$';
const PRODUCTION = 'production';
const MAX_VERSION_TRIES = 100;

const config = f.object(
  'Checks a gate over upstream metrics, then exports the model to runs/models/NAME/VERSION and registers it.',
  {
    model: f.path('The trained model folder, usually ${stages.train.outputs.model}.'),
    name: f.string('The registered model name.', { pattern: NAME }),
    gate: f.string(
      'A condition over upstream metrics that must hold, e.g. "accuracy >= 0.9 and accuracy >= production.accuracy - 0.005".',
    ),
    alias: f.string('An alias (e.g. production) moved to the registered version.', { pattern: NAME }),
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

function checkGate(ctx: StageContext<DeployConfig>, metrics: Record<string, number>, production: ModelVersion | undefined): Registration['gate'] {
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

async function exportVersion(registry: ModelRegistry, source: string, modelsDir: string, name: string, digest: string): Promise<{ version: number; path: string }> {
  const tmp = join(modelsDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  await rm(tmp, { recursive: true, force: true });
  await cp(source, tmp, { recursive: true, dereference: true });
  try {
    let version = registry.nextModelVersion(name);
    for (let i = 0; i < MAX_VERSION_TRIES; i++, version++) {
      const path = join(modelsDir, String(version));
      if (registry.getModel(name, version)) continue;
      if (existsSync(path)) {
        if ((await hashPath(path, uncachedHasher)).digest === digest) return { version, path };
        continue;
      }
      try {
        await rename(tmp, path);
        return { version, path };
      } catch (err) {
        if (!existsSync(path)) throw err;
      }
    }
    throw new Error(`no free version folder for model ${name} under ${modelsDir}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function deployRun(ctx: StageContext<DeployConfig>): Promise<{ metrics: Record<string, number> }> {
  const { name, alias, model } = ctx.config;
  const metrics = resolveUpstreamMetrics(ctx.upstreamMetrics);
  const gate = checkGate(ctx, metrics, ctx.registry.getModel(name, PRODUCTION));
  if (!existsSync(model)) throw new StageFailedError(ctx.stage, `stage ${ctx.stage}: model ${model} does not exist; point "model" at the train stage's output`);
  const digest = (await hashPath(model, uncachedHasher)).digest;
  const modelsDir = join(ctx.runsDir, 'models', name);
  await mkdir(modelsDir, { recursive: true });
  let registered = ctx.registry.listModels(name).find((m) => m.artifactHash === digest);
  let created = false;
  if (registered && !existsSync(registered.path)) {
    const tmp = `${registered.path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    await cp(model, tmp, { recursive: true, dereference: true });
    await rename(tmp, registered.path);
  }
  if (!registered) {
    const { version, path } = await exportVersion(ctx.registry, model, modelsDir, name, digest);
    const result = ctx.registry.registerModel({ name, version, runId: ctx.runId, stage: ctx.stage, artifactHash: digest, path, metrics });
    registered = result;
    created = result.created;
  }
  if (alias) ctx.registry.setAlias(name, alias, registered.version);
  ctx.log(`${created ? 'registered' : 'already registered'} ${name} v${registered.version}${alias ? ` (alias ${alias})` : ''}`);
  const registration: Registration = {
    schemaVersion: 1,
    name,
    version: registered.version,
    created,
    artifactHash: digest,
    path: registered.path,
    alias: alias ?? null,
    gate,
  };
  await writeFile(ctx.outputs.registration, `${JSON.stringify(JSON.parse(canonicalJson(registration)), null, 2)}\n`);
  return { metrics: { version: registered.version } };
}

/** `uses: deploy`: gate, export, register, alias. Never cached; registering the same artifact again reuses its version. */
export const deploy: StageKind<DeployConfig> = {
  kind: 'deploy',
  version: 1,
  description: 'Checks a metrics gate, then exports and registers the model (optionally moving an alias such as production).',
  config,
  cache: false,
  outputs: () => ({ registration: { path: 'registration.json', location: 'stage' } }),
  waitsFor: (c) => (c.gate ? ['evaluate'] : []),
  check: (c) => {
    if (!c.gate) return [];
    try {
      parseCondition(c.gate);
      return [];
    } catch (err) {
      if (!(err instanceof ExprSyntaxError)) throw err;
      return [{ path: ['gate'], message: `expected a comparison over metrics, got "${c.gate}" (${err.reason} at column ${err.column})`, hint: 'e.g. gate: "accuracy >= 0.9" or "f1 >= production.f1 - 0.005"' }];
    }
  },
  run: deployRun,
};
