import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildOptions, BuildReport } from './build-dataset.js';
import { categoryOf, cellFormatOf, keptValue, computeStats, featureColumnNames, inferColumnTypeOfCounts, inferTask, parseNumber, scaleValue, sortCategories, type CellFormat } from './columns.js';
import { idLikeReasonOf } from './column-checks.js';
import { openSplitWriter, SPLIT_NAMES, writeDatasetMeta, type ColumnStats, type DatasetMeta, type FeatureMeta, type SplitMeta, type Task } from './dataset.js';
import { splitRows } from './split.js';
import { csvHeader, engineReader, runInReadOrder, type TableSource } from './read-table.js';
import { type ChunkColumn, openSqlEngine, type SqlEngine, sqlIdentifier, sqlString } from './sql-engine.js';

/**
 * The engine path of preprocess stepped aside: the data or the settings need something only the
 * row-by-row builder does (text, images, dates, a value it reports with its line…). The stage then
 * builds the dataset in JavaScript, which gives the same bytes or the precise error.
 */
export class EngineFallback extends Error {
  override name = 'EngineFallback';
}

/**
 * The engine's memory ceiling unless MLPIPE_ENGINE_MEMORY says otherwise: past it, its tables
 * (held compressed in a database file in a temporary folder) are paged out and its sorts spill
 * there. Measured by bench/preprocess-vs-pandas.mjs on a 2,000,000 × 20 CSV (282 MiB): in memory
 * at 512MB the process peaked at 794 MiB (2.8× the file); with the file at 192MB, at 537 MiB (1.9×).
 * Then 192MB against 128MB, alternated three times each as `mlpipe run --force` under GNU time on
 * the same file (not the bench, which has no setting to pair): medians 551 MiB (517–579) against
 * 470 MiB (468–500), 19.1 s (18.3–21.7) against 20.1 s (18.4–20.4). The peak comes while `tr` is sorted.
 */
const DEFAULT_MEMORY = '128MB';

/** Whether a source's tabular build can go to the engine at all (text, images, dedupe and several targets stay with the builder). */
export function engineCanBuild(o: Pick<BuildOptions, 'text' | 'image' | 'dedupe' | 'target'>): boolean {
  return o.text === undefined && !o.image && !o.dedupe && (!Array.isArray(o.target) || o.target.length === 1);
}

/**
 * Reads `source` into the engine (types sniffed, with the stage's missing markers and decimal
 * mark) and builds the dataset there (see buildDatasetInEngine) into `outDir`. Throws
 * EngineFallback when the builder must do it, with the reason.
 */
export async function preprocessInEngine(source: TableSource, o: BuildOptions, sourceName: string, outDir: string): Promise<{ meta: DatasetMeta; report: BuildReport; delimiter?: string }> {
  if (!engineCanBuild(o)) fallback('text, image, dedupe or several targets');
  const read = await engineReader(source, { mode: 'typed', naValues: o.format.naValues, decimal: o.format.decimal, keepText: o.id === undefined ? [] : [o.id] });
  const temp = await mkdtemp(join(tmpdir(), 'mlpipe-engine-'));
  const engine = await openSqlEngine({ database: join(temp, 'tables.duckdb'), memoryLimit: process.env.MLPIPE_ENGINE_MEMORY || DEFAULT_MEMORY, tempDirectory: temp });
  try {
    let described: unknown[][];
    try {
      described = (await engine.rows(`DESCRIBE SELECT * FROM ${read.sql}`)).rows;
      const keep = new Set(o.id === undefined ? [] : [o.id]);
      const select = described.map(([name, type]) => `${keep.has(String(name)) ? sqlIdentifier(String(name)) : cellExpression(String(name), String(type), cellFormatOf(o.format))} AS ${sqlIdentifier(String(name))}`);
      await runInReadOrder(engine, read, `CREATE TABLE t AS SELECT ${select.join(', ')} FROM ${read.sql}`);
    } catch (err) {
      fallback(`the engine did not read it: ${(err as Error).message.split('\n')[0]}`);
    }
    if (read.delimiter !== undefined) {
      const header = await csvHeader(read.firstFile, read.delimiter);
      if (header.join('\u0000') !== described.map((r) => String(r[0])).join('\u0000')) fallback('the engine named the columns otherwise');
    }
    await mkdir(outDir, { recursive: true });
    const built = await buildDatasetInEngine({ engine, file: source.displayName }, o, sourceName, outDir);
    return { ...built, ...(read.delimiter === undefined ? {} : { delimiter: read.delimiter }) };
  } finally {
    engine.close();
    await rm(temp, { recursive: true, force: true });
  }
}

/** The table `t` the engine holds (already created from the input) and how it was read. */
export interface EngineTable {
  engine: SqlEngine;
  /** How the data is named in meta.json and messages. */
  file: string;
}

const MAX_DISTINCT = 20_000;
const MAX_CLASSES = 10_000;
/** Most categories (or classes) encoded by a list lookup in SQL; more go to the builder. */
const MAX_LOOKUP = 1_000;
const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const WHITESPACE = sqlString(' \t\n\r\v\f\u00a0\ufeff');
const BATCH_VALUES = 1 << 20;

interface Column {
  name: string;
  kind: 'number' | 'string' | 'other';
  /** The column in SQL (its cells as the builder sees them: DOUBLE, or trimmed text with missing markers as NULL). */
  e: string;
  /** string columns: every distinct value (trimmed, NULL for missing) with its count. */
  counts?: Array<[string | null, number]>;
}

type Encoder =
  | { kind: 'numeric'; stats: ColumnStats; encoding: FeatureMeta['encoding']; fill?: number }
  | { kind: 'categorical'; width: number; onehot: boolean };

/**
 * Builds the dataset of a tabular preprocess stage inside the engine and writes it to `outDir`:
 * types from the engine's sniffer (checked against the builder's rules), the kept rows, the split
 * (the same seeded, stratified splitRows as the builder, fed with the engine's label codes), fill
 * values, statistics (sums in train order, so the figures equal the builder's to the bit) and
 * categories by SQL over the train rows, and the encoded rows streamed out in split order, a batch
 * at a time. Throws EngineFallback where the builder must do it.
 */
export async function buildDatasetInEngine(src: EngineTable, o: BuildOptions, sourceName: string, outDir: string): Promise<{ meta: DatasetMeta; report: BuildReport }> {
  if (o.text !== undefined || o.image || o.dedupe) throw new EngineFallback('text, image or dedupe');
  if (Array.isArray(o.target) && o.target.length !== 1) throw new EngineFallback('several targets');
  const targetName = Array.isArray(o.target) ? o.target[0]! : o.target;
  const { engine } = src;
  const fmt = cellFormatOf(o.format);
  const columns = await describeColumns(engine);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const need = (name: string) => byName.get(name) ?? fallback(`no column "${name}"`);
  for (const name of [...Object.keys(o.columns), ...(o.exclude ?? []), ...(o.features ?? []), ...(o.id === undefined ? [] : [o.id]), ...(o.keep ?? [])]) need(name);
  if (o.features && o.exclude) fallback('features and exclude');
  const target = need(targetName);
  if (target.kind === 'other') fallback(`target type`);
  if (Object.keys(o.columns[targetName] ?? {}).some((k) => k !== 'normalize')) fallback('target override');
  const total = Number((await engine.first('SELECT count(*)::INTEGER AS n FROM t'))!.n);

  const warnings: string[] = [];
  const features = await pickFeatures(engine, columns, o, targetName, fmt, warnings);
  for (const name of Object.keys(o.columns)) if (name !== targetName && o.columns[name]!.type !== 'ignore' && !features.some((f) => f.column.name === name)) fallback(`columns.${name} has no effect`);
  const inputs = features.map((f) => f.column);
  const keepSql = [`${target.e} IS NOT NULL`, ...(o.missing.kind === 'drop' ? inputs.map((c) => `${c.e} IS NOT NULL`) : [])].join(' AND ');
  const label = await targetOf(engine, target, o.task, keepSql, fmt, warnings);
  const { srcRows, strata } = await keptRows(engine, keepSql, label.yCode);
  const kept = srcRows.length;
  const parts = splitRows(kept, { ...o.split, shuffle: o.shuffle, strata: o.split.stratify ? strata : undefined });
  if (parts.train.length === 0) fallback('no training rows');
  const partOf = new Int32Array(total).fill(-1);
  const posOf = new Int32Array(total);
  for (const [p, name] of SPLIT_NAMES.entries()) {
    parts[name].forEach((k, r) => {
      partOf[srcRows[k]!] = p;
      posOf[srcRows[k]!] = r;
    });
  }
  await engine.run('CREATE OR REPLACE TABLE assign (part INTEGER, pos INTEGER)');
  await engine.appendInt32('assign', [partOf, posOf]);
  await engine.run('CREATE OR REPLACE VIEW j AS SELECT t.*, t.rowid AS "__mlpipe_row", a.part AS "__mlpipe_part", a.pos AS "__mlpipe_pos" FROM t POSITIONAL JOIN assign a');
  const train = '"__mlpipe_part" = 0';

  const categorical = new Map<Column, Awaited<ReturnType<typeof categoricalFeature>>>();
  for (const f of features) {
    if (f.type === 'categorical') categorical.set(f.column, await categoricalFeature(engine, f.column, o.columns[f.column.name]?.encoding ?? o.encoding, o.missing, train, fmt));
  }
  const id = o.id === undefined ? undefined : need(o.id);
  const keptColumns = (o.keep ?? []).map(need);
  /** Each split's columns, [SQL, name]: the source row, the label, the encoded features, the id and the kept columns. */
  const splitSelect: Array<[string, string]> = [
    ['"__mlpipe_row"::INTEGER', 'r'],
    [label.yCode ?? `CAST(${target.e} AS FLOAT)`, 'y'],
    ...features.map((f, i): [string, string] => [f.type === 'numeric' ? `coalesce(${f.column.e}, 'NaN'::DOUBLE)` : categorical.get(f.column)!.select, `f${i}`]),
    ...(id ? [[id.kind === 'string' ? `CAST(${sqlIdentifier(id.name)} AS VARCHAR)` : `CAST(${sqlIdentifier(id.name)} AS DOUBLE)`, 'id'] as [string, string]] : []),
    ...keptColumns.map((c, k): [string, string] => [keptSelect(c), `k${k}`]),
  ];
  // Every kept row, encoded as the splits need it, sorted once by split then position: the
  // statistics passes read the train rows in train order, and each split streams its rows in
  // order (one sort instead of one per split, each of them over a scan of the whole table).
  await engine.run(`CREATE OR REPLACE TABLE tr AS SELECT "__mlpipe_part" AS p, ${splitSelect.map(([e, name]) => `${e} AS ${name}`).join(', ')} FROM j WHERE "__mlpipe_part" >= 0 ORDER BY "__mlpipe_part", "__mlpipe_pos"`);
  const splitColumns = splitSelect.map(([, name]) => name).join(', ');

  const numeric = features.flatMap((f, i) => (f.type === 'numeric' ? [{ f, column: `f${i}` }] : []));
  const regression = !label.labels;
  const sums = await trainSums(engine, [...numeric.map((n) => n.column), ...(regression ? ['y'] : [])]);
  const fills = numeric.map((n, i) => (o.missing.kind !== 'fill' ? undefined : o.missing.fill === 'mean' ? (sums[i]!.k ? sums[i]!.sum / sums[i]!.k : 0) : undefined));
  if (o.missing.kind === 'fill' && o.missing.fill !== 'mean') for (const [i, n] of numeric.entries()) fills[i] = await numericFill(engine, n.f.column, o.missing, train, fmt);
  const stats = await statsOf(engine, [...numeric.map((n) => n.column), ...(regression ? ['y'] : [])], sums, [...fills, ...(regression ? [undefined] : [])], parts.train.length);
  const metas: FeatureMeta[] = [];
  const encoders: Encoder[] = [];
  for (const f of features) {
    const normalize = o.columns[f.column.name]?.normalize ?? o.normalize;
    const k = numeric.findIndex((n) => n.f === f);
    if (k >= 0) {
      const fill = fills[k];
      metas.push({ name: f.column.name, type: 'numeric', encoding: normalize, stats: stats[k]!, ...(fill === undefined ? {} : { fill }) });
      encoders.push({ kind: 'numeric', stats: stats[k]!, encoding: normalize, fill });
    } else {
      const { meta: fm } = categorical.get(f.column)!;
      metas.push(fm);
      encoders.push({ kind: 'categorical', width: fm.encoding === 'onehot' ? fm.categories!.length : 1, onehot: fm.encoding === 'onehot' });
    }
  }
  const featureNames = metas.flatMap(featureColumnNames);
  const width = featureNames.length;
  const meta: DatasetMeta = {
    schemaVersion: 1,
    task: label.task,
    target: targetName,
    inputKind: 'tabular',
    features: metas,
    featureNames,
    splits: {},
    source: { file: sourceName, rows: total, dropped: total - kept },
    format: o.format,
    ...(o.id === undefined ? {} : { id: o.id }),
    ...(keptColumns.length ? { kept: keptColumns.map((c) => c.name) } : {}),
  };
  if (label.labels) Object.assign(meta, { labels: label.labels, classCounts: label.classCounts });
  else meta.targetScaling = { normalize: o.columns[targetName]?.normalize ?? o.normalize, stats: stats[numeric.length]! };

  const splits: Record<string, SplitMeta> = {};
  for (const [p, name] of SPLIT_NAMES.entries()) {
    const n = parts[name].length;
    if (n === 0) continue;
    const writer = await openSplitWriter(outDir, name, [n, width], 'float32');
    const y = new Float32Array(n);
    const sourceRows = new Int32Array(n);
    const ids: string[] | undefined = id ? [] : undefined;
    const keptValues = keptColumns.map((): string[] => []);
    const keptAt = encoders.length + 2 + (id ? 1 : 0);
    const rowsPerBatch = Math.max(1, Math.floor(BATCH_VALUES / Math.max(1, width)));
    let batch = new Float32Array(rowsPerBatch * width);
    let inBatch = 0;
    let row = 0;
    await engine.stream(`SELECT ${splitColumns} FROM tr WHERE p = ${p}`, async (cols, rows) => {
      const rowIds = cols[0] as Int32Array;
      const ys = cols[1] as Int32Array | Float32Array;
      for (let r = 0; r < rows; r++) {
        sourceRows[row] = rowIds[r]! + 1;
        y[row] = ys[r]!;
        let offset = inBatch * width;
        for (let f = 0; f < encoders.length; f++) offset = encodeCell(encoders[f]!, cols[f + 2]!, r, batch, offset);
        if (ids) ids.push(idText(cols[encoders.length + 2]![r]));
        keptValues.forEach((values, k) => values.push(keptValue(cols[keptAt + k]![r], fmt)));
        row++;
        if (++inBatch === rowsPerBatch) {
          await writer.append(batch);
          batch = new Float32Array(rowsPerBatch * width);
          inBatch = 0;
        }
      }
    });
    if (inBatch > 0) await writer.append(batch.subarray(0, inBatch * width));
    splits[name] = await writer.finish(y, { sourceRows, ids, ...(keptColumns.length ? { kept: Object.fromEntries(keptColumns.map((c, k) => [c.name, keptValues[k]!])) } : {}) });
  }
  await writeDatasetMeta(outDir, meta, splits);
  return {
    meta: { ...meta, splits },
    report: { rowsRead: total, droppedMissing: total - kept, duplicates: 0, rows: kept, splits: { train: parts.train.length, validation: parts.validation.length, test: parts.test.length }, warnings },
  };
}

function fallback(reason: string): never {
  throw new EngineFallback(reason);
}

/** A kept column in SQL: numbers as DOUBLE (NaN where missing: a NULL has no value in a numeric vector), text as read. */
function keptSelect(c: Column): string {
  if (c.kind === 'number') return `coalesce(CAST(${c.e} AS DOUBLE), 'NaN'::DOUBLE)`;
  if (c.kind === 'string') return `CAST(${c.e} AS VARCHAR)`;
  return fallback(`kept column "${c.name}" of a type the builder reads itself`);
}

function idText(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/** Writes one cell's model inputs at `offset` and returns the offset after them. */
function encodeCell(enc: Encoder, col: ChunkColumn, r: number, out: Float32Array, offset: number): number {
  if (enc.kind === 'numeric') {
    let x = (col as Float64Array)[r]!;
    if (Number.isNaN(x)) x = enc.fill ?? fallback('a missing value without a fill');
    const v = scaleValue(x, enc.stats, enc.encoding);
    out[offset] = v;
    if (!Number.isFinite(out[offset])) fallback('a value out of the float32 range');
    return offset + 1;
  }
  const code = (col as Int32Array)[r]!;
  if (code === -2) fallback('a missing category without a fill');
  if (!enc.onehot) out[offset] = code;
  else if (code >= 0) out[offset + code] = 1;
  return offset + enc.width;
}

/**
 * The cell as the builder reads it, computed once when the table is loaded: numbers as DOUBLE,
 * text trimmed with the missing markers as NULL; other types as they are (the builder reads those).
 */
function cellExpression(name: string, type: string, fmt: CellFormat): string {
  const q = sqlIdentifier(name);
  if (NUMERIC_TYPES.test(type)) return `CAST(${q} AS DOUBLE)`;
  if (type !== 'VARCHAR') return q;
  const na = [...fmt.naValues].map(sqlString).join(', ');
  const trimmed = `trim(${q}, ${WHITESPACE})`;
  // list_contains, not IN: DuckDB plans a long IN list as a join, which loses the file's row order
  // under a parallel read (rows then land in other splits from one run to the next).
  return na ? `(CASE WHEN list_contains([${na}], ${trimmed}) THEN NULL ELSE ${trimmed} END)` : trimmed;
}

/** Column names and kinds of `t` (loaded through cellExpression). */
async function describeColumns(engine: SqlEngine): Promise<Column[]> {
  const { rows } = await engine.rows('DESCRIBE t');
  return rows.map(([name, type]) => ({ name: String(name), kind: type === 'DOUBLE' ? 'number' : type === 'VARCHAR' ? 'string' : 'other', e: sqlIdentifier(String(name)) }));
}

/** The tabular features as the builder's featureColumns picks them, from the engine's aggregates instead of the cells. */
async function pickFeatures(engine: SqlEngine, columns: Column[], o: BuildOptions, target: string, fmt: CellFormat, warnings: string[]): Promise<Array<{ column: Column; type: 'numeric' | 'categorical' }>> {
  const excluded = new Set([...(o.exclude ?? []), ...(o.id === undefined ? [] : [o.id])]);
  const names = o.features ?? columns.map((c) => c.name).filter((c) => c !== target && !excluded.has(c));
  if (names.includes(target) || (o.id !== undefined && names.includes(o.id))) fallback('the target or the id among the features');
  const candidates = names.map((n) => columns.find((c) => c.name === n)!).filter((c) => o.columns[c.name]?.type !== 'ignore');
  if (candidates.some((c) => c.kind === 'other')) fallback('a column type the builder reads itself');
  const numbers = candidates.filter((c) => c.kind === 'number');
  const strings = candidates.filter((c) => c.kind === 'string');
  const facts = await engine.first(
    `SELECT ${[
      'count(*)::INTEGER AS "rows"',
      ...numbers.flatMap((c, i) => [`count(${c.e})::INTEGER AS "p${i}"`, `count(*) FILTER (WHERE NOT isfinite(${c.e}))::INTEGER AS "f${i}"`, `coalesce(bool_and(${c.e} = trunc(${c.e})), true) AS "i${i}"`]),
      ...strings.map((c, i) => `count(DISTINCT ${c.e})::INTEGER AS "d${i}"`),
    ].join(', ')} FROM t`,
  );
  for (const [i, c] of strings.entries()) {
    if (Number(facts![`d${i}`]) > MAX_DISTINCT) fallback(`"${c.name}" has more than ${MAX_DISTINCT} distinct values`);
    c.counts = await valueCounts(engine, c.e, 'TRUE');
  }
  const out: Array<{ column: Column; type: 'numeric' | 'categorical' }> = [];
  for (const c of candidates) {
    const declared = o.columns[c.name]?.type;
    let type: 'numeric' | 'categorical';
    let reason: string | undefined;
    if (c.kind === 'number') {
      const i = numbers.indexOf(c);
      if (Number(facts![`f${i}`]) > 0) fallback(`"${c.name}" holds a value that is not a finite number`);
      if (declared && declared !== 'numeric') fallback(`"${c.name}" declared ${declared}`);
      type = 'numeric';
      const present = Number(facts![`p${i}`]);
      const integers = facts![`i${i}`] === true;
      const distinct = integers && present >= 20 ? Number((await engine.first(`SELECT count(DISTINCT ${c.e})::INTEGER AS d FROM t`))!.d) : -1;
      const counting = integers && distinct === present && present >= 20 ? await countsRows(engine, c.e) : false;
      reason = idLikeReasonOf(c.name, { type, present, distinct, integers, counting });
    } else {
      const inferred = inferColumnTypeOfCounts(c.counts!, fmt);
      const t = declared ?? inferred.type;
      if (t !== 'categorical') fallback(`"${c.name}" is ${t}`);
      type = 'categorical';
      const present = c.counts!.reduce((k, [v, n]) => (v === null ? k : k + n), 0);
      reason = idLikeReasonOf(c.name, { type, present, distinct: new Set(c.counts!.filter(([v]) => v !== null).map(([v]) => categoryOf(v, fmt))).size });
    }
    if (reason) {
      if (o.features || declared) warnings.push(`column "${c.name}" looks like an identifier (${reason}), used as a feature because it was named; a model can memorize rows by it`);
      else {
        warnings.push(`column "${c.name}" looks like an identifier (${reason}): left out of the features; list it in \`features\` or declare its type in \`columns\` to use it`);
        continue;
      }
    }
    out.push({ column: c, type });
  }
  if (out.length === 0) fallback('no input columns');
  return out;
}

async function valueCounts(engine: SqlEngine, e: string, where: string): Promise<Array<[string | null, number]>> {
  const { rows } = await engine.rows(`SELECT ${e} AS v, count(*)::INTEGER AS n FROM t WHERE ${where} GROUP BY v ORDER BY v NULLS FIRST`);
  return rows.map(([v, n]) => [v === null ? null : String(v), Number(n)]);
}

/** Whether the present values of an integer column count up or down by one in file order. */
async function countsRows(engine: SqlEngine, e: string): Promise<boolean> {
  const r = await engine.first(`SELECT coalesce(bool_and(d = 1), true) AS up, coalesce(bool_and(d = -1), true) AS down FROM (SELECT ${e} - lag(${e}) OVER (ORDER BY rowid) AS d FROM t WHERE ${e} IS NOT NULL)`);
  return r!.up === true || r!.down === true;
}

interface Label {
  task: Task;
  /** SQL giving each row's class index (classification). */
  yCode?: string;
  labels?: string[];
  classCounts?: Record<string, number>;
}

/** The target's task, labels and counts over the kept rows, as the builder's encodeTargetColumn finds them. */
async function targetOf(engine: SqlEngine, target: Column, task: Task | 'auto', keepSql: string, fmt: CellFormat, warnings: string[]): Promise<Label> {
  const { rows } = await engine.rows(`SELECT ${target.e} AS v, count(*)::INTEGER AS n FROM t WHERE ${keepSql} GROUP BY v ORDER BY v LIMIT ${MAX_CLASSES + 1}`);
  if (rows.length === 0) fallback('no rows');
  if (rows.length > MAX_CLASSES) {
    const distinct = Number((await engine.first(`SELECT count(DISTINCT ${target.e})::INTEGER AS d FROM t WHERE ${keepSql}`))!.d);
    if (target.kind !== 'number' || (task !== 'auto' && task !== 'regression')) fallback('target with too many classes');
    if (task === 'auto') await warnIntegerRegression(engine, target, keepSql, distinct, warnings);
    return { task: 'regression' };
  }
  const distinct = rows.length;
  const counts = rows.map(([v, n]) => [String(v), Number(n)] as const);
  const values = counts.map(([v]) => (target.kind === 'number' ? Number(v) : v));
  const resolved = task === 'auto' ? inferTask(values, fmt) : task;
  if (resolved === 'regression') {
    if (target.kind !== 'number') fallback('a text target read as regression');
    if (task === 'auto') await warnIntegerRegression(engine, target, keepSql, distinct, warnings);
    return { task: resolved };
  }
  if (values.length > MAX_LOOKUP) fallback('target with many classes');
  const labels = sortCategories(values.map((v) => categoryOf(v, fmt)));
  if (labels.length < 2 || (resolved === 'binary' && labels.length > 2)) fallback('target classes');
  const code = new Map(labels.map((l, k) => [l, k]));
  const codes = values.map((v) => code.get(categoryOf(v, fmt))!);
  const classCounts = Object.fromEntries(labels.map((l) => [l, 0]));
  counts.forEach(([, n], i) => {
    classCounts[labels[codes[i]!]!]! += n;
  });
  const raws = target.kind === 'number' ? values.map((v) => doubleLiteral(v as number)) : values.map((v) => sqlString(String(v)));
  return { task: resolved, labels, classCounts, yCode: `([${codes.join(', ')}])[list_position([${raws.join(', ')}], ${target.e})]::INTEGER` };
}

async function warnIntegerRegression(engine: SqlEngine, target: Column, keepSql: string, distinct: number, warnings: string[]): Promise<void> {
  const r = await engine.first(`SELECT coalesce(bool_and(${target.e} = trunc(${target.e})), true) AS ints FROM t WHERE ${keepSql}`);
  if (r!.ints === true) warnings.push(`target "${target.name}" holds ${distinct} distinct integers: treated as regression (more than 10 values); set task: multiclass if they are class codes`);
}

/** The table row id of each kept row in file order, and its class index when the target is a classification. */
async function keptRows(engine: SqlEngine, keepSql: string, yCode: string | undefined): Promise<{ srcRows: Int32Array; strata?: Int32Array }> {
  const ids: Int32Array[] = [];
  const codes: Int32Array[] = [];
  await engine.stream(`SELECT rowid::INTEGER${yCode ? `, ${yCode}` : ''} FROM t WHERE ${keepSql} ORDER BY rowid`, (cols, rows) => {
    ids.push((cols[0] as Int32Array).slice(0, rows));
    if (yCode) codes.push((cols[1] as Int32Array).slice(0, rows));
  });
  return { srcRows: concat(ids), ...(yCode ? { strata: concat(codes) } : {}) };
}

function concat(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A DOUBLE literal that reads back as exactly `x` (the shortest round-trip text). */
function doubleLiteral(x: number): string {
  return `CAST('${String(x)}' AS DOUBLE)`;
}

interface TrainSums {
  /** Values present (not NaN). */
  k: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * One pass over the train rows of `tr` (split 0) in train order: per column, the count, sum, min and max of
 * the present values, added in the order computeStats and numericFill add them (the same doubles).
 */
async function trainSums(engine: SqlEngine, columns: readonly string[]): Promise<TrainSums[]> {
  const out = columns.map(() => ({ k: 0, sum: 0, min: Infinity, max: -Infinity }));
  if (columns.length === 0) return out;
  await engine.stream(`SELECT ${columns.join(', ')} FROM tr WHERE p = 0`, (cols, rows) => {
    cols.forEach((col, c) => {
      const v = col as Float64Array | Float32Array;
      const acc = out[c]!;
      for (let r = 0; r < rows; r++) {
        const x = v[r]!;
        if (Number.isNaN(x)) continue;
        acc.k++;
        acc.sum += x;
        if (x < acc.min) acc.min = x;
        if (x > acc.max) acc.max = x;
      }
    });
  });
  return out;
}

/** computeStats of each column's present train values then its fill once per missing one, as fitFeature appends them; a second pass in train order for the squares. */
async function statsOf(engine: SqlEngine, columns: readonly string[], sums: readonly TrainSums[], fills: ReadonlyArray<number | undefined>, n: number): Promise<ColumnStats[]> {
  const firsts = sums.map((s, c) => {
    const fill = fills[c];
    const missing = fill === undefined ? 0 : n - s.k;
    let { sum, min, max } = s;
    for (let m = 0; m < missing; m++) {
      sum += fill!;
      if (fill! < min) min = fill!;
      if (fill! > max) max = fill!;
    }
    const count = s.k + missing;
    return { count, missing, mean: count ? sum / count : 0, min, max };
  });
  const sq = columns.map(() => 0);
  if (columns.length) {
    await engine.stream(`SELECT ${columns.join(', ')} FROM tr WHERE p = 0`, (cols, rows) => {
      cols.forEach((col, c) => {
        const v = col as Float64Array | Float32Array;
        const mean = firsts[c]!.mean;
        let acc = sq[c]!;
        for (let r = 0; r < rows; r++) {
          const x = v[r]!;
          if (!Number.isNaN(x)) acc += (x - mean) * (x - mean);
        }
        sq[c] = acc;
      });
    });
  }
  return firsts.map((f, c) => {
    if (f.count === 0) return computeStats([]);
    let q = sq[c]!;
    const fill = fills[c];
    for (let m = 0; m < f.missing; m++) q += (fill! - f.mean) * (fill! - f.mean);
    return { mean: f.mean, std: Math.sqrt(q / f.count), min: f.min, max: f.max };
  });
}

/** The fill of a numeric column as fitFeature's numericFill finds it, but for the mean (see trainSums): the median of the sorted values, the smallest most frequent value, or the constant. */
async function numericFill(engine: SqlEngine, c: Column, m: Extract<BuildOptions['missing'], { kind: 'fill' }>, train: string, fmt: CellFormat): Promise<number> {
  if (m.fill === 'constant') return parseNumber(m.value, fmt) ?? fallback('a constant fill that is not a number');
  const present = `${train} AND ${c.e} IS NOT NULL`;
  const k = Number((await engine.first(`SELECT count(*)::INTEGER AS k FROM j WHERE ${present}`))!.k);
  if (k === 0) return 0;
  if (m.fill === 'median') {
    const { rows } = await engine.rows(`SELECT ${c.e} FROM j WHERE ${present} ORDER BY 1 LIMIT 2 OFFSET ${k % 2 ? k >> 1 : (k >> 1) - 1}`);
    return k % 2 ? Number(rows[0]![0]) : (Number(rows[0]![0]) + Number(rows[1]![0])) / 2;
  }
  return Number((await engine.first(`SELECT ${c.e} AS v, count(*) AS n FROM j WHERE ${present} GROUP BY v ORDER BY n DESC, v LIMIT 1`))!.v);
}

/** A categorical feature's meta (categories of the train rows, fill) and the SQL of each row's category index (-1 unknown, -2 missing without a fill). */
async function categoricalFeature(
  engine: SqlEngine,
  c: Column,
  encoding: 'onehot' | 'ordinal',
  missing: BuildOptions['missing'],
  train: string,
  fmt: CellFormat,
): Promise<{ meta: FeatureMeta; select: string }> {
  const { rows } = await engine.rows(`SELECT ${c.e} AS v, count(*)::INTEGER AS n FROM j WHERE ${train} AND ${c.e} IS NOT NULL GROUP BY v`);
  const counts = new Map<string, number>();
  for (const [v, n] of rows) {
    const cat = categoryOf(String(v), fmt);
    counts.set(cat, (counts.get(cat) ?? 0) + Number(n));
  }
  let fill: string | undefined;
  if (missing.kind === 'fill') {
    if (missing.fill === 'constant') fill = categoryOf(missing.value ?? '', fmt);
    else {
      let best = 0;
      for (const v of sortCategories(counts.keys())) if (counts.get(v)! > best) [fill, best] = [v, counts.get(v)!];
    }
  }
  const categories = sortCategories([...counts.keys(), ...(fill === undefined ? [] : [fill])]);
  const index = new Map(categories.map((cat, i) => [cat, i]));
  const raws = c.counts!.flatMap(([v]) => (v === null ? [] : [v]));
  if (raws.length > MAX_LOOKUP) fallback(`"${c.name}" has more than ${MAX_LOOKUP} categories`);
  const codes = raws.map((v) => index.get(categoryOf(v, fmt)) ?? -1);
  const fillCode = fill === undefined ? -2 : index.get(fill)!;
  const meta: FeatureMeta = { name: c.name, type: 'categorical', encoding, categories, ...(fill === undefined ? {} : { fill }) };
  const select = raws.length ? `(CASE WHEN ${c.e} IS NULL THEN ${fillCode} ELSE ([${codes.join(', ')}])[list_position([${raws.map(sqlString).join(', ')}], ${c.e})] END)::INTEGER` : `${fillCode}::INTEGER`;
  return { meta, select };
}
