import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { NondeterministicOutputs } from '../tracker/types.js';
import { MODEL_INPUT_PREFIX, resolveModelInput, type ModelSource } from '../models/model-input.js';
import { withRegistration, type RegisterModel } from './model-registration.js';
import type { OutputSpec, StageContext } from '../stage-kind.js';
import type { FileHasher } from '../hash/stat-cache.js';
import { StageFailedError, GateFailedError, UserError, messageOf } from '../../errors.js';
import { substituteOutputRefs } from '../spec/interpolate.js';
import { resolveConfigPaths } from '../spec/resolve-paths.js';
import { specNodePosition } from '../spec/node-position.js';
import { pauseForTest } from '../store/test-hooks.js';
import { isCacheable } from '../cache/lookup.js';
import type { StageManifest } from '../cache/manifest.js';
import type { StageCache } from '../cache/stage-cache.js';
import type { StageExecutor } from './executor.js';
import type { RunEvent } from './events.js';
import { makeStageSandbox, type SandboxSources } from './stage-sandbox.js';
import { LineTail } from './line-tail.js';

/** What running one stage needs from the run. */
export interface StageRunContext {
  spec: PipelineSpec;
  runId: string;
  runsDir: string;
  runDir: string;
  cache: StageCache;
  hasher: FileHasher;
  /** Registered versions and recorded run outputs, read-only, for the stages (a deploy gate reads `production.*`, `init_from` a model). */
  models: ModelSource;
  /** Registers what a stage's result asks for (the run recorder: the one writer of tracker rows). */
  registerModel: RegisterModel;
  backend: string;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
  executor: StageExecutor;
  /**
   * Set: the stage runs in a temporary copy of the workspace that holds only its declared inputs and
   * upstream outputs (`stage-sandbox.ts`); its workspace outs go to the cache, never to the workspace.
   */
  isolated?: SandboxSources;
}


const ISOLATION_HINT = 'the stage ran in a temporary copy of the workspace that holds only its declared deps and upstream outputs: list every file the command reads in its deps';

/** Where an output lives in this run: the workspace path of a shell `out`, else inside the stage's run folder. */
export function destinationOf(spec: PipelineSpec, runDir: string, stage: string, out: OutputSpec): string {
  return out.location === 'workspace' ? join(spec.dir, out.path) : join(runDir, stage, out.path);
}

/**
 * Runs a stage in a fresh temp folder (its workspace outs in place), checks that it wrote every
 * declared output, and saves the outputs in the cache under `key` (the entry published only for
 * cacheable stages); the stage's run-folder outputs are then linked from the store.
 */
export async function runStage(
  ctx0: StageRunContext,
  stage: StageSpec,
  outputs: Record<string, OutputSpec>,
  key: string,
  upstreamMetrics: Record<string, Record<string, number>>,
  /** The input digests `key` was computed over: a model read by reference must still resolve to the digest it was keyed on. */
  keyedInputs: Record<string, string> = {},
): Promise<{ manifest: StageManifest; backend?: string; nondeterministic?: NondeterministicOutputs }> {
  const { spec, runDir } = ctx0;
  const kind = stage.impl;
  const tmpRoot = join(ctx0.runsDir, 'tmp');
  await mkdir(tmpRoot, { recursive: true });
  const outDir = await mkdtemp(join(tmpRoot, `${ctx0.runId}-${stage.name}-`));
  let sandbox: { root: string; site: string } | undefined;
  try {
    if (ctx0.isolated) {
      const upstream = Object.fromEntries(stage.needs.map((n) => [n, spec.stages[n]!]));
      sandbox = await makeStageSandbox(tmpRoot, `${ctx0.runId}-${stage.name}`, stage, upstream, ctx0.isolated, spec.dir);
    }
    const site = sandbox?.site ?? spec.dir;
    const top = sandbox?.root ?? spec.root;
    const cwd = join(site, kind.workdir?.(stage.config) ?? '.');
    const placeOf = (s: string, o: OutputSpec) => (o.location === 'workspace' ? join(site, o.path) : join(runDir, s, o.path));
    const outputAbs: Record<string, string> = {};
    for (const [name, o] of Object.entries(outputs)) {
      outputAbs[name] = o.location === 'workspace' ? join(site, o.path) : join(outDir, o.path);
      if (o.location === 'workspace' && !o.persist) await rm(outputAbs[name], { recursive: true, force: true });
    }
    const forShell = stage.kind === 'shell';
    const refPath = (s: string, o: string) => {
      const abs = placeOf(s, spec.stages[s].impl.outputs(spec.stages[s].config)[o]);
      const rel = relative(top, abs);
      return forShell && !rel.startsWith('..') && !isAbsolute(rel) ? relative(cwd, abs) || '.' : abs;
    };
    const substituted = substituteOutputRefs(stage.config, refPath, new Set(kind.commands ?? [])) as Record<string, unknown>;
    const config = resolveConfigPaths(kind.config, substituted, cwd) as Record<string, unknown>;
    const tail = new LineTail();
    const metrics: Record<string, number> = {};
    const ctx: StageContext = {
      stage: stage.name,
      config,
      workspace: cwd,
      outDir,
      outputs: outputAbs,
      runId: ctx0.runId,
      runsDir: ctx0.runsDir,
      signal: ctx0.signal,
      log: (line) => {
        tail.push(line);
        ctx0.emit({ type: 'stage-output', stage: stage.name, line });
      },
      progress: (message) => ctx0.emit({ type: 'stage-progress', stage: stage.name, message }),
      specNode: (path) => specNodePosition(spec, stage, path),
      logMetric: (key, value, step) => ctx0.emit({ type: 'stage-metric', stage: stage.name, key, value, step: step ?? null }),
      upstreamMetrics,
      models: ctx0.models,
      resolveModelInput: async (ref) => {
        const input = await resolveModelInput(ctx0.models, ctx0.runsDir, ref);
        const keyed = keyedInputs[`${MODEL_INPUT_PREFIX}${ref}`];
        if (keyed !== undefined && keyed !== input.digest) {
          throw new UserError(`model ${ref} changed while this run was under way (planned with ${keyed.slice(0, 12)}…, now ${input.digest.slice(0, 12)}…): the stage is not run on other weights than its cache key says`, { hint: 'run again: the new plan keys the stage on the model as it is now' });
        }
        return input;
      },
      backend: ctx0.backend,
      ...(stage.search ? { trial: stage.search.control } : {}),
      ...(stage.anchors ? { source: { file: spec.file, anchors: stage.anchors } } : {}),
    };
    let result;
    try {
      result = await ctx0.executor.execute(kind, ctx);
      result = await withRegistration(result, stage.name, ctx0.registerModel, ctx.log);
    } catch (err) {
      if (err instanceof GateFailedError || (err instanceof StageFailedError && !sandbox)) throw err;
      const failed = err instanceof StageFailedError ? err : new StageFailedError(stage.name, messageOf(err), { lastLines: tail.lines(), cause: err });
      if (!sandbox || ctx0.signal.aborted) throw failed;
      throw new StageFailedError(failed.stage, failed.message, { commandExitCode: failed.commandExitCode, lastLines: [...failed.lastLines, `note: ${ISOLATION_HINT}`], cause: err });
    }
    for (const [name, value] of Object.entries(result?.metrics ?? {})) {
      if (!Number.isFinite(value)) {
        ctx.log(`metric ${name} is ${value}; not recorded`);
        continue;
      }
      metrics[name] = value;
      ctx.logMetric(name, value);
    }
    for (const [name, path] of Object.entries(outputAbs)) {
      if (!(await exists(path))) {
        throw new StageFailedError(stage.name, `did not write its output ${name} (${relative(site, path) || path})`, {
          lastLines: tail.lines(),
        });
      }
    }
    await pauseForTest('commit');
    const stageOnly = Object.entries(outputs).filter(([, o]) => o.location === 'stage');
    await mkdir(join(runDir, stage.name), { recursive: true });
    const { manifest, nondeterministic } = await ctx0.cache.save({
      key,
      stage: stage.name,
      kind: stage.kind,
      runId: ctx0.runId,
      metrics,
      outputs: Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, { path: outputAbs[name]!, move: o.location === 'stage' || sandbox !== undefined }])),
      hasher: ctx0.hasher,
      publish: isCacheable(stage),
      place: Object.fromEntries(stageOnly.map(([n, o]) => [n, { path: destinationOf(spec, runDir, stage.name, o), link: true }])),
    });
    return { manifest, backend: result?.backend, ...(nondeterministic ? { nondeterministic } : {}) };
  } finally {
    await rm(outDir, { recursive: true, force: true });
    if (sandbox) await rm(sandbox.root, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
