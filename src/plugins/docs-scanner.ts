/**
 * Where docs queries run. On SQLite: a worker thread, so a scan over tens of thousands of
 * documents never holds the server's event loop (it did for 125-275 ms per query, node:sqlite
 * being synchronous). On PostgreSQL: the store's async cursor on the event loop, since the scan
 * there is waiting on the network, not CPU. In front of either, a fair queue, so one function's
 * looping queries cannot starve another's: each function has its own FIFO, one scan runs at a
 * time taking the functions in turn, and a function with `queuePerFunction` queries waiting gets
 * 429 plugin_busy.
 */
import { Worker } from 'node:worker_threads';
import { isErrorCode, KumoError, LogThrottle, type ServerLog } from '../core/index.ts';
import type { PluginStore } from '../store/index.ts';
import { scanDocsAsync, type ScanRequest } from './doc-scan.ts';
import type { ScanMessage, ScanReply, ScanWorkerData } from './docs-scan-worker.ts';

/** Runs docs scans for functions; the answer is a JSON array as text. */
export interface DocScan {
  scan(fn: string, request: ScanRequest): Promise<string>;
}

/** What the scanner needs. */
export interface DocsScannerOptions {
  /** Where the documents are read: kumo.db, opened read-only by a worker thread, or the store itself. */
  source: { dbFile: string } | { store: PluginStore };
  scanLimit: number;
  queuePerFunction: number;
  log: ServerLog;
  /** Bytes of one answer at most (default 8 MB). */
  maxResultBytes?: number;
  /**
   * The worker's code: by default its TypeScript source, which the worker thread would strip of
   * types itself (about 60 MB of resident memory for the transformer); the server passes a bundled
   * plain-JavaScript copy (shim-bundle.ts) instead.
   */
  workerUrl?: URL;
}

/** The worker's source, for bundling. */
export const DOCS_SCAN_WORKER = new URL('./docs-scan-worker.ts', import.meta.url);

interface Job {
  request: ScanRequest;
  resolve: (json: string) => void;
  reject: (err: Error) => void;
}

/** The worker thread and its fair queue. */
export class DocsScanner implements DocScan {
  private readonly o: Required<DocsScannerOptions>;
  private readonly throttled: LogThrottle;
  private readonly queues = new Map<string, Job[]>();
  /** Functions with queued scans, in the order they get the worker next. */
  private readonly turn: string[] = [];
  private worker: Worker | undefined;
  private current: { id: number; job: Job } | undefined;
  private nextId = 1;
  private closed = false;

  constructor(options: DocsScannerOptions) {
    this.o = { maxResultBytes: 8 * 1024 * 1024, workerUrl: DOCS_SCAN_WORKER, ...options };
    this.throttled = new LogThrottle(options.log);
  }

  scan(fn: string, request: ScanRequest): Promise<string> {
    if (this.closed) return Promise.reject(new KumoError('shutting_down', 'kumo is shutting down'));
    const queue = this.queues.get(fn) ?? [];
    if (queue.length >= this.o.queuePerFunction) {
      this.throttled.warn(`busy:${fn}`, 'docs queries refused: the function has too many waiting', {
        function: fn,
        waiting: queue.length,
      });
      return Promise.reject(
        new KumoError(
          'plugin_busy',
          `docs.${request.want === 'ids' ? 'delete' : 'query'}: ${fn} already has ${queue.length} docs queries waiting (kumo up --plugin-queue); retry when they have finished`,
        ),
      );
    }
    return new Promise<string>((resolve, reject) => {
      queue.push({ request, resolve, reject });
      if (queue.length === 1) {
        this.queues.set(fn, queue);
        this.turn.push(fn);
      }
      this.next();
    });
  }

  /** Stops the worker; waiting scans fail with shutting_down. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new KumoError('shutting_down', 'kumo is shutting down');
    for (const queue of this.queues.values()) for (const job of queue) job.reject(gone);
    this.queues.clear();
    this.turn.length = 0;
    this.current?.job.reject(gone);
    this.current = undefined;
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private next(): void {
    if (this.current || this.closed) return;
    const fn = this.turn.shift();
    if (fn === undefined) return;
    const queue = this.queues.get(fn) ?? [];
    const job = queue.shift();
    if (queue.length) this.turn.push(fn);
    else this.queues.delete(fn);
    if (!job) return this.next();
    const id = this.nextId++;
    this.current = { id, job };
    const message: ScanMessage = { id, request: job.request };
    const source = this.o.source;
    if ('store' in source) void this.scanStore(source.store, message);
    else this.ensureWorker(source.dbFile).postMessage(message);
  }

  /** One scan over the store's async rows, answered as the worker would. */
  private async scanStore(store: PluginStore, { id, request }: ScanMessage): Promise<void> {
    const bounds = { scanLimit: this.o.scanLimit, maxResultBytes: this.o.maxResultBytes };
    let reply: ScanReply;
    try {
      reply = { id, json: await scanDocsAsync(store.docRows(request.collection), request, bounds) };
    } catch (err) {
      reply = {
        id,
        error:
          err instanceof KumoError
            ? { code: err.code, message: err.message }
            : { code: 'internal_error', message: String((err as Error)?.stack ?? err) },
      };
    }
    this.settle(reply);
  }

  private ensureWorker(dbFile: string): Worker {
    if (this.worker) return this.worker;
    const data: ScanWorkerData = {
      dbFile,
      scanLimit: this.o.scanLimit,
      maxResultBytes: this.o.maxResultBytes,
    };
    const worker = new Worker(this.o.workerUrl, {
      workerData: data,
      // A scan holds at most the scan limit's documents one at a time and one bounded answer.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
    });
    // The server's lifetime is not the worker's to decide.
    worker.unref();
    worker.on('message', (reply: ScanReply) => this.settle(reply));
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`the docs scanner exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: ScanReply): void {
    const current = this.current;
    if (!current || current.id !== reply.id) return;
    this.current = undefined;
    if ('json' in reply) current.job.resolve(reply.json);
    else if (isErrorCode(reply.error.code) && reply.error.code !== 'internal_error')
      current.job.reject(new KumoError(reply.error.code, reply.error.message));
    else {
      this.o.log.error('docs scan failed', { error: reply.error.message });
      current.job.reject(new KumoError('internal_error', 'internal error: see the server log'));
    }
    this.next();
  }

  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    if (this.closed) return;
    this.o.log.error('docs scanner stopped; the next query starts a new one', { error: err.message });
    const current = this.current;
    this.current = undefined;
    current?.job.reject(new KumoError('internal_error', 'internal error: see the server log'));
    this.next();
  }
}
