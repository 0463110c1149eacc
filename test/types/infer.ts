// Type-level tests, compiled by `npm run typecheck` (tsconfig.types.json): a failing assertion is a compile error.
import { f, type Infer, type InferInput } from '../../src/schema/fields.js';
import type { TrainConfig } from '../../src/stages/train.js';
import type { ShellConfig } from '../../src/stages/shell-config.js';
import type { EvaluateConfig } from '../../src/stages/evaluate.js';
import { shellConfig } from '../../src/stages/shell-config.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assert = <T extends true>(): T => true as T;

const decl = f.object('x', {
  name: f.string('a'),
  mode: f.enum('b', ['fast', 'slow'], { default: 'fast' }),
  n: f.int('c'),
  tags: f.array('d', f.string('e'), { default: [] }),
  inner: f.object('g', { k: f.bool('h', { default: true }) }),
}, { required: ['name'] });

assert<Equal<Infer<typeof decl>, { name: string; mode: 'fast' | 'slow'; tags: string[]; n?: number; inner?: { k: boolean } }>>();
assert<Equal<InferInput<typeof decl>, { name: string; mode?: 'fast' | 'slow'; tags?: string[]; n?: number; inner?: { k?: boolean } }>>();

// Every declared key of a stage's `with` block is a key of its derived config type, and no other.
assert<Equal<keyof ShellConfig, keyof typeof shellConfig.properties>>();
assert<Equal<keyof TrainConfig, 'data' | 'model' | 'optimizer' | 'loss' | 'loss_weights' | 'metrics' | 'epochs' | 'batch_size' | 'validation_split' | 'early_stopping' | 'class_weight' | 'seed' | 'init_from' | 'freeze'>>();
assert<Equal<TrainConfig['epochs'], number>>();
assert<Equal<TrainConfig['class_weight'], 'balanced' | Record<string, number> | undefined>>();
assert<Equal<EvaluateConfig['split'], 'test' | 'validation' | 'train'>>();
assert<Equal<ShellConfig['run'], string | string[]>>();
