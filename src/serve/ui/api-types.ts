/*
 * The dashboard's JSON API, shared by the server (src/serve/ui) and the browser code (ui/), which
 * imports these types only. Every answer carries `schemaVersion`.
 */
import type { CompareResult } from '../../app/compare/compare-runs.js';
import type { RunFailure } from '../../app/compare/run-failure.js';
import type { ConfusionMatrix } from '../../app/report/confusion-matrix.js';
import type { ImportanceRow } from '../../app/report/importance.js';
import type { SliceTable } from '../../app/report/slices.js';
import type { RunStatus, StageStatus } from '../../core/tracker/types.js';

export type { CompareResult, ConfusionMatrix, RunFailure, RunStatus, StageStatus };

/** One row of the runs table. */
export interface RunRow {
  id: string;
  shortId: string;
  /** The run's name, tags and note, when the tracker records them. */
  name: string | null;
  tags: Record<string, string>;
  note: string | null;
  /** When the run was deleted (soft: `runs restore` or the run page's Restore brings it back). */
  deletedAt: number | null;
  pipeline: string;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  sweepId: string | null;
  gitCommit: string | null;
  backend: string | null;
  /** Flattened params (`model.units`). */
  params: Record<string, unknown>;
  /** Final metrics by `stage.key` (confusion-matrix cells left out). */
  metrics: Record<string, number>;
  failure: RunFailure | null;
}

/**
 * `GET /api/runs?filter=&search=&sort=&dir=&offset=&limit=&deleted=`: one page of the runs matching
 * the filter (the run-search language, run as SQL by the tracker), in the order asked for; deleted
 * runs only with `deleted=include` (or alone with `deleted=only`).
 */
export interface RunsResponse {
  schemaVersion: 1;
  /** The page: runs `offset` … `offset + runs.length - 1` of those matching. */
  runs: RunRow[];
  offset: number;
  /** How many runs match the filter and search. */
  matching: number;
  /** Every param, final metric and tag name, sorted, for the column chooser. */
  columns: { params: string[]; metrics: string[]; tags: string[] };
  /** How many runs the tracker holds (before the filter, deleted ones left out). */
  total: number;
  /** How many deleted runs it holds besides. */
  deleted: number;
  filter: string | null;
}

/** A stage of a run on the run page. */
export interface StageView {
  stage: string;
  kind: string;
  status: StageStatus;
  /** Restored from the cache (`cachedFrom` names the run that produced the outputs). */
  cached: boolean;
  cachedFrom: string | null;
  reason: string | null;
  durationMs: number | null;
  error: string | null;
  /** The last lines the stage printed, and where they come from. */
  log: { lines: string[]; source: 'log file' | 'failure record' | 'none'; truncated: boolean };
}

/** An output of a stage, downloadable from the cache when its manifest is still there. */
export interface ArtifactView {
  stage: string;
  name: string;
  hash: string;
  size: number;
  type: 'file' | 'dir' | null;
  /** Files of the output (one with path '' for a file output); empty when not in the cache. */
  files: { path: string; size: number }[];
  inCache: boolean;
}

/** `GET /api/runs/:id`. */
export interface RunPageResponse {
  schemaVersion: 1;
  run: RunRow & { specPath: string; host: string; error: string | null };
  stages: StageView[];
  /** Per-step metrics as curves (one run). */
  curves: { name: string; direction: 'higher' | 'lower'; points: { step: number; value: number }[] }[];
  confusion: { stage: string; matrix: ConfusionMatrix } | null;
  /** Permutation importance (evaluate `importance`), most important first; its metrics are left out of `run.metrics`. */
  importance: { stage: string; rows: ImportanceRow[] } | null;
  /** Slice metrics (evaluate `slices`) per column; left out of `run.metrics` too. */
  slices: { stage: string; columns: SliceTable[] } | null;
  artifacts: ArtifactView[];
  /** The spec as the run read it: the file now, and whether it still has the bytes the run hashed. */
  spec: { path: string; text: string | null; unchanged: boolean };
  /** The params exactly as recorded (nested). */
  params: Record<string, unknown>;
  /** The dashboard runs with --read-only: Delete and Restore are off. */
  readOnly: boolean;
}

/** `GET /api/compare`: what `mlpipe compare runs --json` prints, plus each run's confusion matrix and record. */
export interface CompareResponse {
  schemaVersion: 1;
  comparison: CompareResult;
  matrices: { runId: string; shortId: string; stage: string; matrix: ConfusionMatrix }[];
  rows: RunRow[];
}

/** `POST /api/runs/:id/delete` and `/restore`: what `mlpipe runs delete|restore --json` prints. */
export type { RunDeletion } from '../../app/runs/run-meta.js';

/** A registered model version on the models page. */
export interface ModelVersionView {
  version: number;
  aliases: string[];
  runId: string;
  stage: string;
  metrics: Record<string, number>;
  createdAt: number;
}

/** `GET /api/models`. */
export interface ModelsResponse {
  schemaVersion: 1;
  readOnly: boolean;
  models: { name: string; versions: ModelVersionView[] }[];
}

/** `GET /api/info`. */
export interface InfoResponse {
  schemaVersion: 1;
  readOnly: boolean;
  runsDir: string;
  pollMs: number;
}

/** The body of every 4xx/5xx answer. */
export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
  hint?: string;
}
