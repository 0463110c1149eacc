import { hostname, userInfo } from 'node:os';
import type { ManifestProvenance } from './manifest.js';

/** The provenance of entries a run of `pipeline` on this machine saves: host, user (MLPIPE_USER, else the OS user), commit, start time. */
export function provenanceHere(pipeline: string, gitCommit: string | null, startedAt: number): ManifestProvenance {
  return { pipeline, host: hostname(), user: currentUser(), gitCommit, startedAt };
}

function currentUser(): string {
  if (process.env.MLPIPE_USER) return process.env.MLPIPE_USER;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}
