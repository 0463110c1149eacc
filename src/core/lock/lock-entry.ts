import type { KeyMaterial } from '../cache/key.js';
import type { StageManifest } from '../cache/manifest.js';
import type { OutputManifest } from '../hash/path-manifest.js';
import { withoutConfusionCells } from '../tracker/confusion-cells.js';
import type { LockedDep, LockedOut, LockedStage } from './lock-file.js';

/** Size and file count of a hashed file or folder (`files` for folders only). */
export function sizeOf(output: OutputManifest): { size: number; files?: number } {
  const size = output.files.reduce((n, f) => n + f.size, 0);
  return output.type === 'dir' ? { size, files: output.files.length } : { size };
}

/**
 * The lock entry of a completed stage: the key material it was keyed on, each dep's digest (with
 * size and file count when `deps` hashed it to that same digest), and its outputs and metrics.
 * Undefined when the manifest lacks a declared output (the entry could not be checked against its key).
 */
export function lockEntryOf(key: string, material: KeyMaterial, manifest: Pick<StageManifest, 'outputs' | 'metrics'>, deps: Record<string, OutputManifest | undefined> = {}): LockedStage | undefined {
  const lockedDeps: Record<string, LockedDep> = {};
  for (const [path, digest] of Object.entries(material.inputs)) {
    const hashed = deps[path];
    lockedDeps[path] = hashed && hashed.digest === digest ? { digest, ...sizeOf(hashed) } : { digest };
  }
  const outs: Record<string, LockedOut> = {};
  for (const [name, declared] of Object.entries(material.outputs)) {
    const produced = manifest.outputs[name];
    if (!produced) return undefined;
    const colon = declared.indexOf(':');
    const location = declared.slice(0, colon) === 'workspace' ? 'workspace' : 'stage';
    outs[name] = { location, path: declared.slice(colon + 1), digest: produced.digest, ...sizeOf(produced) };
  }
  return {
    kind: material.kind,
    version: material.version,
    key,
    params: material.params,
    deps: lockedDeps,
    upstream: material.upstream,
    outs,
    metrics: withoutConfusionCells(manifest.metrics),
    config: material.config,
  };
}
