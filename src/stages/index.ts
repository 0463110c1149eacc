import type { StageKind, StageKinds } from '../core/stage-kind.js';
import { shell } from './shell.js';
import { preprocess } from './preprocess.js';
import { train } from './train.js';
import { evaluate } from './evaluate.js';
import { deploy } from './deploy.js';
import { sql } from './sql.js';

/** Every built-in stage kind, by the name a spec's `uses:` gives (and `shell` for `run:` stages). */
const kinds: StageKind[] = [preprocess, train, evaluate, deploy, sql, shell];

export const stageKinds: StageKinds = new Map(kinds.map((k) => [k.kind, k]));
