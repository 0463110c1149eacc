import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { directionOf } from '../../app/compare/metric-names.js';
import { resolveRunRef } from '../../app/compare/resolve-run.js';
import { findConfusionMatrix, type ArtifactJsonReader } from '../../app/report/confusion-matrix.js';
import { readLogTail, stageLogPath } from '../../core/run/stage-logs.js';
import type { ObjectStore } from '../../core/store/types.js';
import type { OutputManifest } from '../../core/hash/path-manifest.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import type { StageRunRecord, Tracker } from '../../core/tracker/types.js';
import type { ArtifactView, RunPageResponse, StageView } from './api-types.js';
import { groupRunMetrics } from './metric-groups.js';
import { buildRow, finalValues } from './run-rows.js';
import { shortIds } from '../../app/compare/resolve-run.js';

const LOG_LINES = 200;

/** Everything the run page shows about one run (id, unique prefix or MODEL@ALIAS). */
export async function runPage(tracker: Tracker, store: ObjectStore, runsDir: string, ref: string, readArtifact: ArtifactJsonReader): Promise<Omit<RunPageResponse, 'readOnly'>> {
  const id = await resolveRunRef(tracker, ref);
  const run = (await tracker.getRun(id))!;
  const [stageRuns, points, artifacts, allIds] = await Promise.all([tracker.getStageRuns(id), tracker.getMetrics(id), tracker.getArtifacts(id), tracker.findRunIds('')]);
  const built = buildRow(run, stageRuns, finalValues(points));
  const { metrics, importance, slices } = groupRunMetrics(points, built.metrics, stageRuns.map((s) => s.stage));
  const row = { ...built, metrics, shortId: shortIds([id], allIds).get(id)! };
  const stages = await Promise.all(stageRuns.map((s) => stageView(s, runsDir)));
  const curves = new Map<string, { step: number; value: number }[]>();
  for (const p of points) {
    if (p.step === null) continue;
    const name = `${p.stage}.${p.key}`;
    const list = curves.get(name) ?? [];
    list.push({ step: p.step, value: p.value });
    curves.set(name, list);
  }
  const keyOf = new Map(stageRuns.map((s) => [s.stage, s.cacheKey ?? null]));
  const manifests = new Map<string, Record<string, OutputManifest> | undefined>();
  const artifactViews: ArtifactView[] = [];
  for (const a of artifacts) {
    const key = keyOf.get(a.stage);
    if (key && !manifests.has(key)) manifests.set(key, (await readManifest(store, key))?.outputs);
    const out = key ? manifests.get(key)?.[a.name] : undefined;
    const inCache = out !== undefined && out.digest === a.hash;
    artifactViews.push({
      stage: a.stage,
      name: a.name,
      hash: a.hash,
      size: a.size,
      type: inCache ? out.type : null,
      files: inCache ? out.files.map((f) => ({ path: f.path, size: f.size })) : [],
      inCache,
    });
  }
  return {
    schemaVersion: 1,
    run: { ...row, specPath: run.specPath, host: run.host, error: run.error ?? null },
    stages,
    curves: [...curves].map(([name, pts]) => ({ name, direction: directionOf(name), points: pts.sort((a, b) => a.step - b.step) })),
    confusion: (await findConfusionMatrix(points, artifacts, readArtifact)) ?? null,
    importance,
    slices,
    artifacts: artifactViews,
    spec: await specOf(run.specPath, run.specHash),
    params: run.params,
  };
}

async function stageView(s: StageRunRecord, runsDir: string): Promise<StageView> {
  const file = await readLogTail(stageLogPath(runsDir, s.runId, s.stage), LOG_LINES);
  const failureLines = s.error ? s.error.split('\n') : [];
  const log: StageView['log'] = file
    ? { lines: file.lines, source: 'log file', truncated: file.truncated }
    : failureLines.length > 1
      ? { lines: failureLines.slice(1), source: 'failure record', truncated: false }
      : { lines: [], source: 'none', truncated: false };
  return {
    stage: s.stage,
    kind: s.kind,
    status: s.status,
    cached: Boolean(s.cachedFrom),
    cachedFrom: s.cachedFrom ?? null,
    reason: s.reason ?? null,
    durationMs: s.durationMs ?? null,
    error: s.error ? failureLines[0]! : null,
    log,
  };
}

async function specOf(path: string, hash: string): Promise<RunPageResponse['spec']> {
  try {
    const bytes = await readFile(path);
    return { path, text: bytes.toString('utf8'), unchanged: createHash('sha256').update(bytes).digest('hex') === hash };
  } catch {
    return { path, text: null, unchanged: false };
  }
}
