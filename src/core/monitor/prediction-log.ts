import Sqlite from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A true label sent back for a prediction: a class label, or the value of a regression target. */
export type TrueLabel = string | number;

/** What the prediction log stores of one scored row (the prediction as `POST /predict` answered it). */
export interface PredictionEntry {
  /** `REQUEST/ROW`: the request id the client got back and the row's 0-based index in that request. */
  id: string;
  requestId: string;
  row: number;
  /** Epoch milliseconds. */
  time: number;
  model: string;
  version: number;
  /** The raw row as the client sent it. */
  input: Record<string, unknown>;
  /** `{ label, probabilities }`, `{ value }` or `{ outputs }`. */
  prediction: { label?: string; probabilities?: Record<string, number>; value?: number; outputs?: unknown };
}

/** A logged row with the label attached through feedback, if any. */
export interface LoggedPrediction extends PredictionEntry {
  label?: TrueLabel;
  labelTime?: number;
}

/** How an id given as feedback resolves: to a logged row, to nothing, or to a request of several rows. */
export type ResolvedId = { id: string; row: string } | { id: string; unknown: true } | { id: string; rows: number };

const SCHEMA_VERSION = 1;

/** The prediction log of model NAME: `RUNS_DIR/monitor/NAME.sqlite`. */
export function predictionLogPath(runsDir: string, model: string): string {
  return join(runsDir, 'monitor', `${model}.sqlite`);
}

interface Row {
  id: string;
  request_id: string;
  row: number;
  time: number;
  model: string;
  version: number;
  input: string;
  prediction: string;
  label: string | null;
  label_time: number | null;
}

const fromRow = (r: Row): LoggedPrediction => ({
  id: r.id,
  requestId: r.request_id,
  row: r.row,
  time: r.time,
  model: r.model,
  version: r.version,
  input: JSON.parse(r.input) as Record<string, unknown>,
  prediction: JSON.parse(r.prediction) as PredictionEntry['prediction'],
  ...(r.label === null ? {} : { label: JSON.parse(r.label) as TrueLabel, labelTime: r.label_time ?? undefined }),
});

/**
 * The SQLite file (WAL, so a reader never blocks the server writing) where `mlpipe serve` logs every
 * prediction and `POST /feedback` attaches true labels; `mlpipe monitor` reads it. Synchronous
 * (better-sqlite3): callers batch their writes.
 */
export class PredictionLog {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #setLabel: Statement;
  readonly #byId: Statement;
  readonly #byRequest: Statement;

  private constructor(
    db: Database,
    readonly path: string,
  ) {
    this.#db = db;
    this.#insert = db.prepare('insert or replace into predictions (id, request_id, row, time, model, version, input, prediction) values (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#setLabel = db.prepare('update predictions set label = ?, label_time = ? where id = ?');
    this.#byId = db.prepare('select id from predictions where id = ?');
    this.#byRequest = db.prepare('select id from predictions where request_id = ? order by row limit 2');
  }

  /** Opens (creating it and its folder) the log at `path`, for the server. */
  static create(path: string): PredictionLog {
    mkdirSync(dirname(path), { recursive: true });
    return PredictionLog.#open(path, false);
  }

  /** Opens an existing log (for `mlpipe monitor`); undefined when there is none. */
  static openExisting(path: string): PredictionLog | undefined {
    return existsSync(path) ? PredictionLog.#open(path, true) : undefined;
  }

  static #open(path: string, mustExist: boolean): PredictionLog {
    const db = new Sqlite(path, { fileMustExist: mustExist });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`${path} is a prediction log of a newer mlpipe (schema ${version}; this one reads ${SCHEMA_VERSION})`);
      if (version < SCHEMA_VERSION) {
        db.exec(`
          create table if not exists predictions (
            id text primary key,
            request_id text not null,
            row integer not null,
            time integer not null,
            model text not null,
            version integer not null,
            input text not null,
            prediction text not null,
            label text,
            label_time integer
          );
          create index if not exists predictions_time on predictions (model, time);
          create index if not exists predictions_request on predictions (request_id);
          pragma user_version = ${SCHEMA_VERSION};
        `);
      }
      return new PredictionLog(db, path);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Writes the entries in one transaction. */
  append(entries: readonly PredictionEntry[]): void {
    if (entries.length === 0) return;
    this.#db.transaction(() => {
      for (const e of entries) this.#insert.run(e.id, e.requestId, e.row, e.time, e.model, e.version, JSON.stringify(e.input), JSON.stringify(e.prediction));
    })();
  }

  /** Deletes the rows logged before `time` (epoch ms); returns how many. */
  prune(time: number): number {
    return this.#db.prepare('delete from predictions where time < ?').run(time).changes;
  }

  /**
   * What each feedback id names: `REQUEST/ROW` a logged row, a bare `REQUEST` the row of a one-row
   * request (a request of several rows is ambiguous: `rows` says how many it had).
   */
  resolve(ids: readonly string[]): ResolvedId[] {
    return ids.map((id) => {
      if (this.#byId.get(id)) return { id, row: id };
      const rows = this.#byRequest.all(id) as { id: string }[];
      if (rows.length === 0) return { id, unknown: true as const };
      if (rows.length === 1) return { id, row: rows[0]!.id };
      const n = (this.#db.prepare('select count(*) as n from predictions where request_id = ?').get(id) as { n: number }).n;
      return { id, rows: n };
    });
  }

  /** Sets the true label of logged rows (by row id, as {@link resolve} gives them), in one transaction; a later label replaces an earlier one. */
  setLabels(labels: readonly { row: string; label: TrueLabel }[], time: number): void {
    this.#db.transaction(() => {
      for (const l of labels) this.#setLabel.run(JSON.stringify(l.label), time, l.row);
    })();
  }

  /** The rows of `model` logged at or after `since` (epoch ms), oldest first. */
  *read(model: string, since: number): Generator<LoggedPrediction> {
    const rows = this.#db.prepare('select * from predictions where model = ? and time >= ? order by time, request_id, row').iterate(model, since) as IterableIterator<Row>;
    for (const r of rows) yield fromRow(r);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
