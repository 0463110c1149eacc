import { canonicalJson } from '../hash/canonical-json.js';
import type { OutputManifest } from '../hash/path-manifest.js';

/** What one stage execution produced, stored under its cache key. */
export interface StageManifest {
  schemaVersion: 1;
  key: string;
  stage: string;
  kind: string;
  /** The run that executed the stage. */
  runId: string;
  createdAt: number;
  outputs: Record<string, OutputManifest>;
  metrics: Record<string, number>;
  /** Who made the entry, so that a machine whose tracker never saw {@link runId} can say where it came from (absent in older entries). */
  provenance?: ManifestProvenance;
}

/** Where a cache entry was made: what a teammate's clone shows for a result it restored. */
export interface ManifestProvenance {
  pipeline: string;
  host: string;
  /** The OS user (or MLPIPE_USER) of the process that ran the stage. */
  user: string;
  /** The commit checked out where it ran; null outside a git repository. */
  gitCommit: string | null;
  /** When that run started (epoch ms); on a queue worker, when the job started. */
  startedAt: number;
}

/** A manifest as stored: canonical JSON and a newline, so one entry always has the same bytes. */
export function encodeManifest(manifest: StageManifest): string {
  return `${canonicalJson(manifest)}\n`;
}

/** A decoded manifest, or what is wrong with the text (it is then a cache miss, never used). */
export type DecodedManifest = { ok: true; manifest: StageManifest } | { ok: false; problem: string };

/** Parses and checks a stored manifest: shape, schema version, the key it claims and safe relative paths. */
export function decodeManifest(text: string, key: string): DecodedManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `is not valid JSON, probably partial (${(error as Error).message})` };
  }
  const problem = manifestProblem(parsed, key);
  if (problem) return { ok: false, problem };
  const manifest = parsed as StageManifest;
  // provenance is informative: a malformed one (another version's) is dropped, the entry still used
  if (manifest.provenance !== undefined && !isProvenance(manifest.provenance)) delete manifest.provenance;
  return { ok: true, manifest };
}

function isProvenance(value: unknown): value is ManifestProvenance {
  return (
    isRecord(value) &&
    typeof value.pipeline === 'string' &&
    typeof value.host === 'string' &&
    typeof value.user === 'string' &&
    (value.gitCommit === null || typeof value.gitCommit === 'string') &&
    typeof value.startedAt === 'number'
  );
}

/** Whether `path` is a relative POSIX path that stays inside its folder (no empty, `.` or `..` segments). */
export function isSafeOutputPath(path: string): boolean {
  return path.length > 0 && !path.includes('\0') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Every object digest the manifest names, once each. */
export function digestsOf(manifest: Pick<StageManifest, 'outputs'>): string[] {
  return [...new Set(Object.values(manifest.outputs).flatMap((output) => output.files.map((file) => file.hash)))];
}

const HEX = /^[0-9a-f]{3,}$/;

function manifestProblem(value: unknown, key: string): string | undefined {
  if (!isRecord(value)) return 'is not a JSON object';
  if (value.schemaVersion !== 1) return `has schemaVersion ${JSON.stringify(value.schemaVersion)}, expected 1`;
  if (value.key !== key) return `is for key ${JSON.stringify(value.key)}, not ${key}`;
  for (const field of ['stage', 'kind', 'runId'] as const) {
    if (typeof value[field] !== 'string') return `lacks the string field ${field}`;
  }
  if (typeof value.createdAt !== 'number') return 'lacks the number field createdAt';
  if (!isRecord(value.metrics) || !Object.values(value.metrics).every((n) => typeof n === 'number')) {
    return 'has metrics that are not all numbers';
  }
  if (!isRecord(value.outputs)) return 'lacks outputs';
  for (const [name, output] of Object.entries(value.outputs)) {
    if (!isOutputManifest(output)) return `has a malformed output ${name}`;
  }
  return undefined;
}

function isOutputManifest(value: unknown): boolean {
  return (
    isRecord(value) &&
    (value.type === 'file' || value.type === 'dir') &&
    typeof value.digest === 'string' &&
    Array.isArray(value.files) &&
    (value.type === 'dir' || value.files.length === 1) &&
    value.files.every(
      (file) =>
        isRecord(file) &&
        typeof file.path === 'string' &&
        (value.type === 'file' ? file.path === '' : isSafeOutputPath(file.path)) &&
        typeof file.hash === 'string' &&
        HEX.test(file.hash) &&
        typeof file.size === 'number' &&
        typeof file.mode === 'number',
    )
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
