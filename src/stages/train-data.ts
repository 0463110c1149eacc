import { readDataset, type DatasetMeta } from '../ml/dataset.js';
import { openStreamedSplit, xBytesOf } from '../ml/split-reader.js';
import type { FitData, TrainData } from '../ml/train-loop.js';

/** The splits a train stage fits on: in memory, or streamed from their files when the train split's `x` is large. */
export interface TrainSplits {
  meta: DatasetMeta;
  /** The train split: rows, targets, folds (cross-validated datasets, always in memory). */
  train: TrainData & { n: number; folds?: Int32Array };
  validation?: TrainData;
  /** Whether `x` is read from the split files a batch at a time. */
  streamed: boolean;
  close(): void;
}

/** Default of MLPIPE_TRAIN_STREAM_MB: a train split whose `x` is larger is read from its file a batch at a time. */
const DEFAULT_STREAM_MB = 256;

/** The size in bytes above which a train split is streamed: MLPIPE_TRAIN_STREAM_MB (megabytes; 0 streams every split). */
export function streamThreshold(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MLPIPE_TRAIN_STREAM_MB;
  const mb = raw === undefined || raw.trim() === '' ? DEFAULT_STREAM_MB : Number(raw);
  return Number.isFinite(mb) && mb >= 0 ? mb * 1024 * 1024 : DEFAULT_STREAM_MB * 1024 * 1024;
}

/**
 * Opens the train (and validation) split of the dataset in `dir`. A train split whose `x` is over
 * streamThreshold is not loaded: its rows are read from the file batch by batch (only `y`, 4 bytes
 * a row, is held), which gives the same batches, so the same weights, as in memory.
 * Cross-validated datasets are loaded (their folds cut the rows in memory).
 */
export async function openTrainSplits(dir: string, meta: DatasetMeta): Promise<TrainSplits> {
  const names = ['train', ...('validation' in meta.splits ? ['validation'] : [])];
  const trainMeta = meta.splits.train;
  if (!meta.cv && trainMeta && xBytesOf(trainMeta) > streamThreshold()) {
    const opened = names.map((name) => openStreamedSplit(dir, name, meta.splits[name]!));
    const [train, validation] = opened;
    return {
      meta,
      train: train!,
      ...(validation ? { validation } : {}),
      streamed: true,
      close: () => opened.forEach((s) => s.rows.close()),
    };
  }
  const ds = await readDataset(dir, names);
  const validation: FitData | undefined = ds.splits.validation;
  return { meta: ds.meta, train: ds.splits.train!, ...(validation ? { validation } : {}), streamed: false, close: () => undefined };
}
