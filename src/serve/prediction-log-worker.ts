import type { RequestEntry, TrueLabel } from '../core/monitor/prediction-log.js';

/** What {@link PredictionLogger} asks of its writer thread; each message is answered, in order, by a {@link WriterReply} with its `seq`. */
export type WriterMessage = { seq: number } & (
  | { type: 'append'; entries: readonly RequestEntry[]; rows: number }
  | { type: 'prune'; before: number }
  | { type: 'labels'; labels: readonly { request: string; row: number; label: TrueLabel }[]; time: number }
  | { type: 'close' }
);

/** The writer's answer: done, or the error that lost the message's rows. */
export interface WriterReply {
  seq: number;
  error?: string;
}

/** What the writer thread gets as `workerData`. */
export interface WriterData {
  /** The resolved path of better-sqlite3's entry module. */
  sqlite: string;
  /** The log, created (schema and all) by the main thread before the writer starts. */
  path: string;
}

/**
 * The writer thread of the prediction log, evaluated as CommonJS (`new Worker(source, { eval: true })`)
 * so it runs the same from src/ under vitest, from dist/ and from the bundle. It owns every write to
 * the file: JSON encoding, inserts, labels and retention, one transaction a message, in arrival order;
 * the main thread keeps a connection only to read (WAL: never blocked by these writes).
 */
export const PREDICTION_LOG_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.sqlite);
const db = new Sqlite(workerData.path, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare('insert or replace into requests (id, time, model, version, rows, inputs, predictions) values (?, ?, ?, ?, ?, ?, ?)');
const setLabel = db.prepare('insert or replace into labels (request_id, row, label, time) values (?, ?, ?, ?)');
const pruneLabels = db.prepare('delete from labels where request_id in (select id from requests where time < ?)');
const pruneRequests = db.prepare('delete from requests where time < ?');
const append = db.transaction((entries) => {
  for (const e of entries) insert.run(e.id, e.time, e.model, e.version, e.inputs.length, JSON.stringify(e.inputs), JSON.stringify(e.predictions));
});
const labels = db.transaction((items, time) => {
  for (const l of items) setLabel.run(l.request, l.row, JSON.stringify(l.label), time);
});
const prune = db.transaction((before) => {
  pruneLabels.run(before);
  pruneRequests.run(before);
});
parentPort.on('message', (m) => {
  try {
    if (m.type === 'append') append(m.entries);
    else if (m.type === 'labels') labels(m.labels, m.time);
    else if (m.type === 'prune') prune(m.before);
    else if (m.type === 'close') db.close();
    parentPort.postMessage({ seq: m.seq });
  } catch (e) {
    parentPort.postMessage({ seq: m.seq, error: String((e && e.message) || e) });
  }
  if (m.type === 'close') parentPort.close();
});
`;
