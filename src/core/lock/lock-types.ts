import type { LOCK_SCHEMA_VERSION } from './lock-schema.js';

/** A file or folder a stage read. */
export interface LockedDep {
  digest: string;
  size?: number;
  /** Files in a folder; absent for a file. */
  files?: number;
}

/** An output a stage wrote. */
export interface LockedOut {
  location: 'workspace' | 'stage';
  path: string;
  digest: string;
  size: number;
  /** Files in a folder; absent for a file. */
  files?: number;
}

/** One stage's last completed execution: its key material in full, and what it produced. */
export interface LockedStage {
  kind: string;
  version: number;
  key: string;
  params: Record<string, unknown>;
  deps: Record<string, LockedDep>;
  upstream: Record<string, string>;
  outs: Record<string, LockedOut>;
  metrics: Record<string, number>;
  config: Record<string, unknown>;
}

/**
 * The lock file beside a spec (DVC's `dvc.lock`), committed to git: per stage its cache key and
 * everything the key was computed from, and the digests of what it produced. No times, run ids,
 * hosts or absolute paths, so two machines that produce the same results write the same bytes.
 */
export interface LockFile {
  schemaVersion: typeof LOCK_SCHEMA_VERSION;
  pipeline: string;
  stages: Record<string, LockedStage>;
}
