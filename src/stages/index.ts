import type { StageKind } from './types.js';
import { shell } from './shell.js';
import { preprocess } from './preprocess.js';
import { train } from './train.js';
import { evaluate } from './evaluate.js';
import { deploy } from './deploy.js';

/** Every built-in stage kind, by the name a spec's `uses:` gives (and `shell` for `run:` stages). */
const kinds: StageKind[] = [preprocess, train, evaluate, deploy, shell];

export const stageKinds: ReadonlyMap<string, StageKind> = new Map(kinds.map((k) => [k.kind, k]));

export function getStageKind(kind: string): StageKind | undefined {
  return stageKinds.get(kind);
}

/** Kinds a user may name in `uses:` (shell stages are written with `run:`). */
export function usableKindNames(): string[] {
  return [...stageKinds.keys()].filter((k) => k !== 'shell').sort();
}
