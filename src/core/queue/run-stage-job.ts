import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineSpec, StageSpec } from '../spec/types.js';
import type { StageKinds } from '../stage-kind.js';
import type { ObjectStore } from '../store/types.js';
import { StageCache, readManifest } from '../cache/stage-cache.js';
import { provenanceHere } from '../cache/provenance.js';
import { outputsAvailable, restoreOutputs } from '../cache/stage-outputs.js';
import { differingFiles } from '../cache/nondeterminism.js';
import { uncachedHasher } from '../hash/stat-cache.js';
import { localExecutor } from '../run/executor.js';
import { runStage } from '../run/run-stage.js';
import type { SandboxSources } from '../run/stage-sandbox.js';
import { unshipStage, type LoggedMetric, type StageJobData, type StageJobResult } from './stage-job.js';

/** What a worker's stage process needs besides the job. */
export interface StageJobOptions {
  kinds: StageKinds;
  /** The worker's own state folder: the stage's temporary workspace and output folders go under its `tmp/`. */
  runsDir: string;
  /** The remote cache the job's inputs come from and its outputs go to. */
  remote: ObjectStore;
  worker: string;
  signal: AbortSignal;
  /** The live line of the stage (`epoch 3/10 …`). */
  onProgress(message: string): void;
  onLine(line: string): void;
}

/**
 * Runs one stage job where the worker is (STYLE.md 18: at-least-once delivery, idempotent work): a
 * complete entry already under the job's key is returned as it is (another worker, or an earlier
 * attempt, finished it); otherwise the stage runs in a temporary workspace restored from the remote
 * (its declared inputs and upstream outputs, each object verified), its outputs go to the remote
 * (objects first, the manifest last, only when no complete manifest is there yet), and the
 * manifest that is under the key afterwards is the result. A forced job (`run --force`) skips the
 * first check and replaces the entry, as a local `--force` does. The temporary workspace also holds
 * the code files the job carries (what the command runs and imports). Nothing of a stage that fails
 * or is stopped reaches the remote's manifests.
 */
export async function runStageJob(job: StageJobData, opts: StageJobOptions): Promise<StageJobResult> {
  const startedAt = Date.now();
  const existing = job.publish && !job.force ? await completeEntry(opts.remote, job.key) : undefined;
  if (existing) {
    const metrics = Object.entries(existing.metrics).map(([key, value]) => ({ key, value, step: null }));
    return { manifest: existing, metrics, worker: opts.worker, duplicate: true, startedAt, finishedAt: Date.now() };
  }
  const stage = unshipStage(job.stage, opts.kinds);
  const upstream = Object.fromEntries(Object.entries(job.upstreamStages).map(([name, s]) => [name, unshipStage(s, opts.kinds)]));
  const runDir = join(opts.runsDir, 'tmp', `${job.runId}-${stage.name}-run`);
  const spec: PipelineSpec = {
    name: job.pipeline,
    file: join(opts.runsDir, 'pipeline.yaml'),
    dir: opts.runsDir,
    root: opts.runsDir,
    params: {},
    stages: { ...upstream, [stage.name]: stage },
    order: [...Object.keys(upstream), stage.name],
    specHash: '',
    kinds: opts.kinds,
  };
  const sources: SandboxSources = {
    input: (rel, dest) => {
      const manifest = job.inputs[rel] ?? job.code?.[rel];
      if (!manifest) throw new Error(`the job carries no files for input ${rel}`);
      return restoreOutputs(opts.remote, { input: manifest }, { input: { path: dest, link: false } }, { verify: true });
    },
    upstream: (name) => job.upstream[name],
    store: opts.remote,
    code: Object.keys(job.code ?? {}),
  };
  const metrics: LoggedMetric[] = [];
  try {
    await restoreUpstreamRunOutputs(opts.remote, upstream, job.upstream, runDir);
    const { manifest, backend, nondeterministic: seen } = await runStage(
      {
        spec,
        runId: job.runId,
        runsDir: opts.runsDir,
        runDir,
        // forced: this execution replaces the entry (as a local --force does); else the first complete result of the key stays
        cache: new StageCache(job.force ? opts.remote : firstManifestWins(opts.remote), { provenance: provenanceHere(job.pipeline, null, startedAt) }),
        hasher: uncachedHasher,
        models: { getModel: async () => undefined, listModels: async () => [], findRunIds: async () => [], getArtifacts: async () => [] },
        registerModel: () => Promise.reject(new Error(`stage ${stage.name} asked a worker to register a model; stages of kind ${stage.kind} run on the coordinator`)),
        backend: job.backend,
        signal: opts.signal,
        emit: (e) => {
          if (e.type === 'stage-metric') metrics.push({ key: e.key, value: e.value, step: e.step });
          else if (e.type === 'stage-progress') opts.onProgress(e.message);
          else if (e.type === 'stage-output') opts.onLine(e.line);
        },
        executor: localExecutor,
        isolated: sources,
      },
      stage,
      stage.impl.outputs(stage.config),
      job.key,
      job.upstreamMetrics,
    );
    const winner = job.publish && !job.force ? await completeEntry(opts.remote, job.key) : undefined;
    if (winner && winner.runId !== manifest.runId) {
      const replayed = Object.entries(winner.metrics).map(([key, value]) => ({ key, value, step: null }));
      // Another execution stored the key first and stays the entry: this one's files differing from it is nondeterminism.
      const files = differingFiles(winner.outputs, manifest.outputs);
      const nondeterministic = files.length > 0 ? { previousRunId: winner.runId, files } : undefined;
      return { manifest: winner, backend, metrics: replayed, worker: opts.worker, duplicate: true, startedAt, finishedAt: Date.now(), ...(nondeterministic ? { nondeterministic } : {}) };
    }
    return { manifest, backend, metrics, worker: opts.worker, duplicate: false, startedAt, finishedAt: Date.now(), ...(seen ? { nondeterministic: seen } : {}) };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * The upstream outputs that live in the run folder (a built-in stage's dataset or model), restored
 * from the remote where the stage's references point: `RUN_DIR/STAGE/PATH`, as on the coordinator.
 * Workspace outputs (shell `outs`) go into the stage's temporary workspace instead (stage-sandbox.ts).
 */
async function restoreUpstreamRunOutputs(
  store: ObjectStore,
  upstream: Record<string, StageSpec>,
  produced: StageJobData['upstream'],
  runDir: string,
): Promise<void> {
  for (const [name, up] of Object.entries(upstream)) {
    const outputs = Object.entries(up.impl.outputs(up.config)).filter(([out, o]) => o.location === 'stage' && produced[name]?.[out]);
    if (outputs.length === 0) continue;
    await restoreOutputs(
      store,
      Object.fromEntries(outputs.map(([out]) => [out, produced[name]![out]!])),
      Object.fromEntries(outputs.map(([out, o]) => [out, { path: join(runDir, name, o.path), link: false }])),
      { verify: true },
    );
  }
}

async function completeEntry(store: ObjectStore, key: string) {
  const manifest = await readManifest(store, key);
  return manifest && (await outputsAvailable(store, manifest.outputs)) ? manifest : undefined;
}

/** The store with a manifest write that keeps a manifest already there: the first complete result of a key wins. */
function firstManifestWins(store: ObjectStore): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putManifest') {
        return async (key: string, text: string) => {
          if ((await target.getManifest(key)) === undefined) await target.putManifest(key, text);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
