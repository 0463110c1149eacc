import { existsSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import type { KeyMaterial } from '../../core/cache/key.js';
import type { StageManifest } from '../../core/cache/manifest.js';
import { readManifest } from '../../core/cache/stage-cache.js';
import { outputsAvailable, restoreOutputs } from '../../core/cache/stage-outputs.js';
import { dirDigest, hashPath } from '../../core/hash/hash-path.js';
import { StatCache } from '../../core/hash/stat-cache.js';
import type { OutputManifest } from '../../core/hash/path-manifest.js';
import type { ObjectStore } from '../../core/store/types.js';
import type { ArtifactRecord, StageRunRecord, Tracker } from '../../core/tracker/types.js';
import { resolveRunRef } from '../compare/resolve-run.js';

/**
 * Whether a run's output can be fetched: `cache` (every file in the cache), `run-folder` (an output
 * of a stage that is not cached, still in `runs/<run>/<stage>/` with the digest the run recorded),
 * `missing` (the entry or some of its files are gone: gc, or made on another machine), `replaced`
 * (the entry under its key now holds another execution's different files: the stage is not deterministic).
 */
export type OutputAvailability = 'cache' | 'run-folder' | 'missing' | 'replaced';

/** One output of a run, as `runs show` lists it and `runs get STAGE/OUTPUT` fetches it. */
export interface RunOutput {
  stage: string;
  /** The output's name (a shell stage's: its `outs` path). */
  name: string;
  /** `STAGE/NAME`: what `runs get` takes. */
  ref: string;
  /** Where a run puts it: in the workspace (shell `outs`) or in the run's folder (`runs/<run>/<stage>/…`). */
  location: 'workspace' | 'stage' | 'unknown';
  /** Its declared path (relative to the spec's folder, or to the stage's folder in the run). */
  path: string;
  digest: string;
  /** Total bytes. */
  size: number;
  /** Files in it (1 for a file output); null when the cache no longer says. */
  files: number | null;
  available: OutputAvailability;
}

/** What `runs get` wrote. */
export interface RunGetResult {
  schemaVersion: 1;
  runId: string;
  stage: string;
  /** Each file or folder written: the output (and the path inside it) and where it now is. */
  written: { output: string; inside: string | null; path: string; type: 'file' | 'dir'; digest: string; files: number; size: number; from: 'cache' | 'run-folder' }[];
}

/** Where `runs get` reads from: the local cache, or (with `--pull`) the local cache in front of the remote. */
export interface OutputStores {
  /** The runs folder (a stage that is not cached keeps its outputs in `<runsDir>/<run>/<stage>/`). */
  runsDir: string;
  store: ObjectStore;
  /** Whether the store reaches a remote (messages: what to try next). */
  pulls: boolean;
  /** Whether a remote is configured (hint `--pull` when it was not used). */
  remoteConfigured: boolean;
}

/** `runs get` cannot give what was asked for. */
export class RunOutputError extends UserError {
  constructor(message: string, hint: string) {
    super(message, { hint });
    this.name = 'RunOutputError';
  }
}

interface StageOutputs {
  stageRun: StageRunRecord;
  manifest: StageManifest | undefined;
  /** Recorded by the run: name → path, digest, size. */
  artifacts: ArtifactRecord[];
}

function declared(material: unknown, name: string): { location: RunOutput['location']; path: string } {
  const spec = (material as KeyMaterial | null | undefined)?.outputs?.[name];
  if (!spec) return { location: 'unknown', path: name };
  const at = spec.indexOf(':');
  const location = spec.slice(0, at);
  return { location: location === 'workspace' || location === 'stage' ? location : 'unknown', path: spec.slice(at + 1) };
}

/** The output as the run's own folder still holds it (a stage that is not cached), when its files hash to what the run recorded. */
async function inRunFolder(runsDir: string, runId: string, stageRun: StageRunRecord, artifact: ArtifactRecord): Promise<{ path: string; out: OutputManifest } | undefined> {
  const where = declared(stageRun.keyMaterial, artifact.name);
  if (where.location !== 'stage') return undefined;
  const path = join(runsDir, runId, stageRun.stage, where.path);
  if (!existsSync(path)) return undefined;
  const out = await hashPath(path, await StatCache.open(runsDir)).catch(() => undefined);
  return out?.digest === artifact.hash ? { path, out } : undefined;
}

async function availability(stores: Pick<OutputStores, 'runsDir' | 'store'>, s: StageOutputs, runId: string, artifact: ArtifactRecord): Promise<OutputAvailability> {
  const out = s.manifest?.outputs[artifact.name];
  if (out?.digest === artifact.hash && (await outputsAvailable(stores.store, { [artifact.name]: out }))) return 'cache';
  if (await inRunFolder(stores.runsDir, runId, s.stageRun, artifact)) return 'run-folder';
  return out && out.digest !== artifact.hash ? 'replaced' : 'missing';
}

async function stageOutputs(tracker: Tracker, store: ObjectStore, runId: string): Promise<StageOutputs[]> {
  const artifacts = await tracker.getArtifacts(runId);
  const out: StageOutputs[] = [];
  for (const stageRun of await tracker.getStageRuns(runId)) {
    const mine = artifacts.filter((a) => a.stage === stageRun.stage);
    const manifest = stageRun.cacheKey && stageRun.status === 'completed' ? await readManifest(store, stageRun.cacheKey) : undefined;
    out.push({ stageRun, manifest, artifacts: mine });
  }
  return out;
}

/** Every output a run recorded, with whether the cache (or the run's folder) still holds exactly those files. */
export async function listRunOutputs(tracker: Tracker, stores: Pick<OutputStores, 'runsDir' | 'store'>, runId: string): Promise<RunOutput[]> {
  const result: RunOutput[] = [];
  for (const s of await stageOutputs(tracker, stores.store, runId)) {
    for (const a of s.artifacts) {
      const where = declared(s.stageRun.keyMaterial, a.name);
      const files = s.manifest?.outputs[a.name]?.digest === a.hash ? s.manifest.outputs[a.name]!.files.length : null;
      result.push({ stage: a.stage, name: a.name, ref: `${a.stage}/${a.name}`, ...where, digest: a.hash, size: a.size, files, available: await availability(stores, s, runId, a) });
    }
  }
  return result;
}

/** The longest of `names` that `path` is or starts with as a folder. */
function longestPrefix(path: string, names: readonly string[]): string | undefined {
  return [...names].sort((a, b) => b.length - a.length).find((n) => path === n || path.startsWith(`${n}/`));
}

/** A part of an output: the file at `inside`, or the files under the folder `inside`, as an output manifest of its own. */
function part(out: OutputManifest, inside: string): OutputManifest | undefined {
  if (out.type === 'file') return undefined;
  const file = out.files.find((f) => f.path === inside);
  if (file) return { type: 'file', digest: file.hash, files: [{ ...file, path: '' }] };
  const files = out.files.filter((f) => f.path.startsWith(`${inside}/`)).map((f) => ({ ...f, path: f.path.slice(inside.length + 1) }));
  return files.length ? { type: 'dir', digest: dirDigest(files), files } : undefined;
}

function listing(names: readonly string[]): string {
  return names.length ? names.join(', ') : '(none)';
}

/**
 * `runs get RUN STAGE[/OUTPUT[/PATH]] -o DIR`: writes a run's outputs (all of a stage's, one, or a
 * file or folder inside one) into DIR, each under its own name, from the cache entry the run made
 * or restored — never from the workspace, which a later run may have overwritten. Every object is
 * verified before it is written; something already at a target path is refused unless `overwrite`.
 */
export async function getRunOutput(
  tracker: Tracker,
  stores: OutputStores,
  opts: { run: string; target: string; dir: string; overwrite?: boolean },
): Promise<RunGetResult> {
  const runId = await resolveRunRef(tracker, opts.run);
  const run = (await tracker.getRun(runId))!;
  const stageRuns = await tracker.getStageRuns(runId);
  const target = opts.target.replace(/^\/+|\/+$/g, '');
  const stage = longestPrefix(target, stageRuns.map((s) => s.stage));
  if (stage === undefined) {
    throw new RunOutputError(`run ${runId} has no stage "${target.split('/')[0]}"; its stages: ${listing(stageRuns.map((s) => s.stage))}`, `mlpipe runs show ${runId} lists its outputs`);
  }
  const stageRun = stageRuns.find((s) => s.stage === stage)!;
  const rest = target.slice(stage.length + 1);
  const artifacts = (await tracker.getArtifacts(runId)).filter((a) => a.stage === stage);
  const rerun = `re-run the stage (a new run): mlpipe run ${run.specPath} --stage ${stage}`;
  if (stageRun.status !== 'completed') throw new RunOutputError(`stage ${stage} did not complete in run ${runId} (${stageRun.status}): it has no outputs to fetch`, rerun);
  if (!stageRun.cacheKey || artifacts.length === 0) {
    throw new RunOutputError(`stage ${stage} of run ${runId} kept no outputs in the cache (its kind is not cached: it runs every time)`, stageRun.kind === 'deploy' ? `what it registered: mlpipe models list` : `mlpipe runs show ${runId} lists what can be fetched`);
  }
  const byName = new Map(artifacts.map((a) => [a.name, a]));
  const byPath = new Map(artifacts.map((a) => [declared(stageRun.keyMaterial, a.name).path, a]));
  let chosen: ArtifactRecord[] = artifacts;
  let inside: string | null = null;
  if (rest) {
    const name = longestPrefix(rest, [...byName.keys()]);
    const path = name === undefined ? longestPrefix(rest, [...byPath.keys()]) : undefined;
    const artifact = name !== undefined ? byName.get(name) : path !== undefined ? byPath.get(path) : undefined;
    if (!artifact) throw new RunOutputError(`stage ${stage} of run ${runId} has no output "${rest}"; its outputs: ${listing(artifacts.map((a) => a.name))}`, `fetch one with: mlpipe runs get ${runId} ${stage}/${artifacts[0]!.name} -o DIR`);
    const matched = name ?? path!;
    chosen = [artifact];
    inside = rest.length > matched.length ? rest.slice(matched.length + 1) : null;
  }

  const missingHint = () =>
    stores.pulls ? `it is not on the remote either; ${rerun}` : stores.remoteConfigured ? `fetch it from the remote: mlpipe runs get ${opts.run} ${opts.target} -o ${opts.dir} --pull` : rerun;
  const gone = () => `${stores.pulls ? ' from the local cache and the remote' : ' from the local cache'} (mlpipe gc removed it, or the run was made on another machine)`;
  const manifest = await readManifest(stores.store, stageRun.cacheKey);
  const plan: { artifact: ArtifactRecord; out: OutputManifest; dest: string; folder?: string }[] = [];
  for (const artifact of chosen) {
    const cached = manifest?.outputs[artifact.name];
    let out: OutputManifest;
    let folder: string | undefined;
    if (cached?.digest === artifact.hash) out = cached;
    else {
      const own = await inRunFolder(stores.runsDir, runId, stageRun, artifact);
      if (own) ({ out, path: folder } = own);
      else if (cached) {
        throw new RunOutputError(
          `the cache entry under the key of stage ${stage} now holds other files than run ${runId} made (${manifest!.runId} re-ran it and its outputs differed: the stage is not deterministic); run ${runId}'s own ${artifact.name} is not kept`,
          `fetch run ${manifest!.runId}'s instead: mlpipe runs get ${manifest!.runId} ${opts.target} -o ${opts.dir}`,
        );
      } else throw new RunOutputError(`the cache entry of stage ${stage} (run ${runId}, key ${stageRun.cacheKey.slice(0, 12)}…) is gone${gone()}`, missingHint());
    }
    let selected: OutputManifest = out;
    let name = basename(declared(stageRun.keyMaterial, artifact.name).path) || artifact.name;
    if (inside !== null) {
      const sub = part(out, inside);
      if (!sub) {
        const sample = out.files.slice(0, 8).map((f) => f.path);
        throw new RunOutputError(`output ${artifact.name} of stage ${stage} (run ${runId}) has no file or folder "${inside}"${out.type === 'file' ? ' (it is a single file)' : `; it holds ${listing(sample)}${out.files.length > sample.length ? `, and ${out.files.length - sample.length} more` : ''}`}`, `fetch the whole output: mlpipe runs get ${runId} ${stage}/${artifact.name} -o ${opts.dir}`);
      }
      selected = sub;
      name = basename(inside);
      if (folder !== undefined) folder = join(folder, inside);
    } else if (chosen.length > 1) name = declared(stageRun.keyMaterial, artifact.name).path;
    plan.push({ artifact, out: selected, dest: resolve(opts.dir, name), folder });
  }
  if (!opts.overwrite) {
    const taken = plan.find((p) => existsSync(p.dest));
    if (taken) throw new RunOutputError(`${taken.dest} already exists; runs get does not overwrite`, `choose another -o folder, or pass --force to replace it`);
  }
  const fromCache = plan.filter((p) => p.folder === undefined);
  const objects = Object.fromEntries(fromCache.map((p, i) => [String(i), p.out]));
  if (!(await outputsAvailable(stores.store, objects))) throw new RunOutputError(`files of stage ${stage} (run ${runId}) are gone${gone()}`, missingHint());
  await mkdir(opts.dir, { recursive: true });
  await restoreOutputs(stores.store, objects, Object.fromEntries(fromCache.map((p, i) => [String(i), { path: p.dest, link: false }])), { verify: true });
  for (const p of plan) {
    if (p.folder === undefined) continue;
    await rm(p.dest, { recursive: true, force: true });
    await cp(p.folder, p.dest, { recursive: true, dereference: true });
  }
  return {
    schemaVersion: 1,
    runId,
    stage,
    written: plan.map((p) => ({ output: p.artifact.name, inside, path: p.dest, type: p.out.type, digest: p.out.digest, files: p.out.files.length, size: p.out.files.reduce((n, f) => n + f.size, 0), from: p.folder === undefined ? ('cache' as const) : ('run-folder' as const) })),
  };
}
