/**
 * The docs scanner's worker thread: its own read-only connection to kumo.db (WAL lets it read
 * while the server writes), one scan at a time, answers as JSON text or a {code, message} error.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { KumoError } from '../core/index.ts';
import { SqlitePluginStore } from '../store/index.ts';
import { scanDocs, type ScanBounds, type ScanRequest } from './doc-scan.ts';

/** What the worker is started with. */
export interface ScanWorkerData extends ScanBounds {
  dbFile: string;
}

/** A request to the worker. */
export interface ScanMessage {
  id: number;
  request: ScanRequest;
}

/** The worker's answer. */
export type ScanReply =
  { id: number; json: string } | { id: number; error: { code: string; message: string } };

const data = workerData as ScanWorkerData;
const db = new DatabaseSync(data.dbFile, { readOnly: true });
db.exec('PRAGMA busy_timeout = 5000');
const store = new SqlitePluginStore(db);

parentPort?.on('message', (msg: ScanMessage) => {
  let reply: ScanReply;
  try {
    reply = { id: msg.id, json: scanDocs(store.docRowsSync(msg.request.collection), msg.request, data) };
  } catch (err) {
    reply = {
      id: msg.id,
      error:
        err instanceof KumoError
          ? { code: err.code, message: err.message }
          : { code: 'internal_error', message: String((err as Error)?.stack ?? err) },
    };
  }
  parentPort?.postMessage(reply);
});
