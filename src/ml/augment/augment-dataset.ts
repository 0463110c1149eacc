import { readDataset, openSplitWriter, writeDatasetMeta } from '../dataset.js';
import { DataError } from '../errors.js';
import { augmentSplit, type AugmentConfig, type AugmentReport } from './augment-split.js';

/** Rewrites the train split of the dataset in `dir` augmented (validation and test stay as they are); returns the row counts. */
export async function augmentDataset(dir: string, config: AugmentConfig, splitSeed: number): Promise<AugmentReport> {
  const ds = await readDataset(dir, ['train']);
  if (ds.meta.cv) throw new DataError('augment cannot be combined with cross-validation folds yet: copies made before the folds are cut would leak into the held-out folds', { hint: 'remove split.kfold/split.column, or augment in a run without folds' });
  const { split, report } = augmentSplit(ds.splits.train!, ds.meta, config, splitSeed);
  const writer = await openSplitWriter(dir, 'train', split.xShape, split.x instanceof Int32Array ? 'int32' : 'float32');
  await writer.append(split.x);
  const train = await writer.finish(split.y, { sourceRows: split.sourceRows, ids: split.ids, kept: split.kept });
  await writeDatasetMeta(dir, ds.meta, { ...ds.meta.splits, train });
  return report;
}
