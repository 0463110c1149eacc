import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../hash/canonical-json.js';
import { hashPath } from '../hash/hash-path.js';
import { uncachedHasher } from '../hash/stat-cache.js';
import { writeAtomic } from '../fs/write-atomic.js';
import { pauseForTest } from '../store/test-hooks.js';
import type { ModelRegistrationRequest, StageResult } from '../stage-kind.js';
import type { ModelRegistry } from '../tracker/types.js';

/** What a registration did; written, less `created`, as the stage's record file (e.g. deploy's `registration.json`, schemaVersion 1). */
export interface Registration {
  schemaVersion: 1;
  name: string;
  version: number;
  /** false when this artifact was already registered and that version was reused. */
  created: boolean;
  artifactHash: string;
  /** The version's folder, relative to the runs folder (`models/NAME/VERSION`). */
  path: string;
  alias: string | null;
  [extra: string]: unknown;
}

/** Registers a stage's model: `(request, stage name)` → what was registered. The run recorder provides it. */
export type RegisterModel = (request: ModelRegistrationRequest, stage: string) => Promise<Registration>;

/**
 * Exports a model to `<runsDir>/models/NAME/VERSION/` and registers it, numbering versions inside
 * the registry's transaction (a version folder already holding other files is skipped); the same
 * artifact registered again reuses its version (and gets its folder back when that was deleted). An
 * alias moves in the same transaction. Writes the record file the request names.
 */
export async function registerModelVersion(
  registry: ModelRegistry,
  runsDir: string,
  from: { runId: string; stage: string },
  request: ModelRegistrationRequest,
): Promise<Registration> {
  const { name, artifactHash } = request;
  const modelsDir = join(runsDir, 'models', name);
  await mkdir(modelsDir, { recursive: true });
  const known = (await registry.listModels(name)).find((m) => m.artifactHash === artifactHash);
  if (known) await restoreFolder(request.source, join(modelsDir, String(known.version)), artifactHash);
  const tmp = join(modelsDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    if (!known) await cp(request.source, tmp, { recursive: true, dereference: true });
    await pauseForTest('register-model');
    const registered = await registry.registerModel(
      { name, runId: from.runId, stage: from.stage, artifactHash, path: versionPath(name, 'unclaimed'), metrics: request.metrics, ...(request.description === undefined ? {} : { description: request.description }) },
      { alias: request.alias, claim: known ? undefined : async (version) => ((await claimFolder(tmp, join(modelsDir, String(version)), artifactHash)) ? versionPath(name, version) : undefined) },
    );
    const registration: Registration = {
      ...request.record?.extra,
      schemaVersion: 1,
      name,
      version: registered.version,
      created: registered.created,
      artifactHash,
      path: registered.path,
      alias: request.alias ?? null,
    };
    if (request.record) {
      // `created` says what this process did, not what is registered: the record (an output the lock
      // file digests) is the same on every machine that registers the artifact.
      const { created: _created, ...record } = registration;
      await writeAtomic(request.record.path, `${JSON.stringify(JSON.parse(canonicalJson(record)), null, 2)}\n`);
    }
    return registration;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Applies a stage result's registration request through `register`: logs what was registered and
 * adds the registered `version` to the stage's metrics. Results without a request pass through.
 */
export async function withRegistration(
  result: StageResult | void,
  stage: string,
  register: RegisterModel,
  log: (line: string) => void,
): Promise<StageResult | void> {
  if (!result?.register) return result;
  const r = await register(result.register, stage);
  log(`${r.created ? 'registered' : 'already registered'} ${r.name} v${r.version}${r.alias ? ` (alias ${r.alias})` : ''}`);
  return { ...result, metrics: { ...result.metrics, version: r.version } };
}

/** Moves the exported files into a version's folder; undefined when that folder holds another artifact. */
async function claimFolder(tmp: string, path: string, digest: string): Promise<string | undefined> {
  if (existsSync(path)) return (await hashPath(path, uncachedHasher)).digest === digest ? path : undefined;
  try {
    await rename(tmp, path);
    return path;
  } catch (err) {
    if (!existsSync(path)) throw err;
    return (await hashPath(path, uncachedHasher)).digest === digest ? path : undefined;
  }
}

/** A version's folder as the registry records it: relative to the runs folder, so a copied or moved runs folder serves its own files. */
const versionPath = (name: string, version: number | string) => `models/${name}/${version}`;

/**
 * Gives a registered version's folder back its registered files when it is missing or no longer
 * holds them (deleted, or changed after registration): the same artifact deployed again repairs it.
 */
async function restoreFolder(source: string, path: string, digest: string): Promise<void> {
  if (existsSync(path) && (await hashPath(path, uncachedHasher)).digest === digest) return;
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const aside = `${path}.bad-${process.pid}-${randomBytes(6).toString('hex')}`;
  await cp(source, tmp, { recursive: true, dereference: true });
  try {
    if (existsSync(path)) await rename(path, aside);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(aside, { recursive: true, force: true });
  }
}
