import Sqlite from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A true label sent back for a prediction: a class label, or the value of a regression target. */
export type TrueLabel = string | number;

/** A prediction as `POST /predict` answered it: `{ label, probabilities }`, `{ value }` or `{ outputs }`. */
export interface LoggedOutput {
  label?: string;
  probabilities?: Record<string, number>;
  value?: number;
  outputs?: unknown;
}

/** What the prediction log stores of one answered request (one database row, however many rows it scored). */
export interface RequestEntry {
  /** The request id the client got back. */
  id: string;
  /** Epoch milliseconds. */
  time: number;
  model: string;
  version: number;
  /** The raw rows as the client sent them. */
  inputs: readonly Record<string, unknown>[];
  predictions: readonly LoggedOutput[];
}

/** One scored row of a logged request, with the label attached through feedback, if any. */
export interface LoggedPrediction {
  /** `REQUEST/ROW`: the request id and the row's 0-based index in that request. */
  id: string;
  requestId: string;
  row: number;
  time: number;
  model: string;
  version: number;
  input: Record<string, unknown>;
  prediction: LoggedOutput;
  label?: TrueLabel;
}

/** How an id given as feedback resolves: to a row of a logged request, to nothing, or to a request of several rows (ambiguous). */
export type ResolvedId = { id: string; request: string; row: number } | { id: string; unknown: true } | { id: string; rows: number };

const SCHEMA_VERSION = 1;

/** The prediction log of model NAME: `RUNS_DIR/monitor/NAME.sqlite`. */
export function predictionLogPath(runsDir: string, model: string): string {
  return join(runsDir, 'monitor', `${model}.sqlite`);
}

interface Row {
  id: string;
  time: number;
  model: string;
  version: number;
  inputs: string;
  predictions: string;
  labels: string | null;
}

function* rowsOf(r: Row): Generator<LoggedPrediction> {
  const inputs = JSON.parse(r.inputs) as Record<string, unknown>[];
  const predictions = JSON.parse(r.predictions) as LoggedOutput[];
  const labels = r.labels === null ? {} : (JSON.parse(r.labels) as Record<string, string>);
  for (let i = 0; i < inputs.length; i++) {
    const label = labels[i];
    yield {
      id: `${r.id}/${i}`,
      requestId: r.id,
      row: i,
      time: r.time,
      model: r.model,
      version: r.version,
      input: inputs[i]!,
      prediction: predictions[i]!,
      ...(label === undefined ? {} : { label: JSON.parse(label) as TrueLabel }),
    };
  }
}

/**
 * The SQLite file (WAL, so a reader never blocks the server writing) where `mlpipe serve` logs every
 * prediction and `POST /feedback` attaches true labels; `mlpipe monitor` reads it. This class
 * creates the schema and reads; the server's writes go through a writer thread
 * (serve/prediction-log-worker.ts).
 */
export class PredictionLog {
  readonly #db: Database;
  readonly #rowsOf: Statement;

  private constructor(
    db: Database,
    readonly path: string,
  ) {
    this.#db = db;
    this.#rowsOf = db.prepare('select rows from requests where id = ?');
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
          create table if not exists requests (
            id text primary key,
            time integer not null,
            model text not null,
            version integer not null,
            rows integer not null,
            inputs text not null,
            predictions text not null
          );
          create index if not exists requests_time on requests (model, time);
          create table if not exists labels (
            request_id text not null,
            row integer not null,
            label text not null,
            time integer not null,
            primary key (request_id, row)
          ) without rowid;
          pragma user_version = ${SCHEMA_VERSION};
        `);
      }
      return new PredictionLog(db, path);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * What each feedback id names: `REQUEST/ROW` row ROW of a logged request, a bare `REQUEST` the
   * row of a one-row request (a request of several rows is ambiguous: `rows` says how many it had).
   */
  resolve(ids: readonly string[]): ResolvedId[] {
    return ids.map((id) => {
      const slash = id.lastIndexOf('/');
      const exact = this.#rowsOf.get(id) as { rows: number } | undefined;
      if (exact) return exact.rows === 1 ? { id, request: id, row: 0 } : { id, rows: exact.rows };
      if (slash > 0 && /^\d+$/.test(id.slice(slash + 1))) {
        const request = id.slice(0, slash);
        const row = Number(id.slice(slash + 1));
        const found = this.#rowsOf.get(request) as { rows: number } | undefined;
        if (found && row < found.rows) return { id, request, row };
      }
      return { id, unknown: true as const };
    });
  }

  /** The rows of `model`'s requests logged at or after `since` (epoch ms), oldest first, with their labels. */
  *read(model: string, since: number): Generator<LoggedPrediction> {
    const rows = this.#db
      .prepare('select r.id, r.time, r.model, r.version, r.inputs, r.predictions, (select json_group_object(l.row, l.label) from labels l where l.request_id = r.id) as labels from requests r where r.model = ? and r.time >= ? order by r.time, r.id')
      .iterate(model, since) as IterableIterator<Row>;
    for (const r of rows) yield* rowsOf(r);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
