import { open, rename, rm } from 'node:fs/promises';
import { writeAll } from '../../core/fs/write-atomic.js';
import { openSqlEngine, sqlIdentifier, sqlString } from '../../ml/sql-engine.js';
import type { OutputColumnKind } from './prediction-output.js';

/** The engine's memory ceiling while it converts (past it, it spills to the output's folder). */
const MEMORY_LIMIT = '256MB';

/** Where rendered predictions go, piece by piece. */
export interface PredictionSink {
  write(text: string | Uint8Array): Promise<void>;
  /** Finishes the output; the text when it was kept in memory, else null. */
  done(): Promise<string | null>;
  abort(): Promise<void>;
}

/**
 * A Parquet file of the predictions, written without holding them: the rendered CSV goes to a
 * temporary file beside `output` as it comes, then the engine streams it into Parquet (zstd) and
 * the result is renamed over `output` (readers never see half a file). The cells are the CSV's:
 * `row` BIGINT, numbers DOUBLE (the CSV's 7 significant digits), labels VARCHAR, the input
 * columns typed by the engine over the whole file. `columns` is asked once the CSV is complete.
 */
export async function openParquetSink(output: string, columns: () => Array<{ name: string; kind: OutputColumnKind }>): Promise<PredictionSink> {
  const csv = `${output}.csv-tmp-${process.pid}`;
  const parquet = `${output}.tmp-${process.pid}`;
  const handle = await open(csv, 'w');
  let closed = false;
  const close = async () => {
    if (!closed) await handle.close();
    closed = true;
  };
  const cleanup = async () => {
    await close();
    await rm(csv, { force: true });
    await rm(parquet, { force: true });
  };
  return {
    write: (text) => writeAll(handle, text),
    done: async () => {
      try {
        await close();
        await csvToParquet(csv, parquet, columns());
        await rename(parquet, output);
        return null;
      } finally {
        await cleanup();
      }
    },
    abort: cleanup,
  };
}

const TYPES: Partial<Record<OutputColumnKind, string>> = { row: 'BIGINT', number: 'DOUBLE', label: 'VARCHAR' };

async function csvToParquet(csv: string, parquet: string, columns: Array<{ name: string; kind: OutputColumnKind }>): Promise<void> {
  const engine = await openSqlEngine({ memoryLimit: MEMORY_LIMIT, threads: 2 });
  try {
    const types = columns.flatMap((c) => (TYPES[c.kind] ? [`${sqlString(c.name)}: ${sqlString(TYPES[c.kind]!)}`] : []));
    const options = ["header = true", "delim = ','", `quote = '"'`, `escape = '"'`, 'sample_size = -1', ...(types.length ? [`types = {${types.join(', ')}}`] : [])];
    const select = columns.length ? columns.map((c) => sqlIdentifier(c.name)).join(', ') : '*';
    await engine.run(`COPY (SELECT ${select} FROM read_csv(${sqlString(csv)}, ${options.join(', ')})) TO ${sqlString(parquet)} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    engine.close();
  }
}
