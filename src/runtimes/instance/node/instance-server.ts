/**
 * The HTTP side of the Instance protocol: an HTTP/1.1 server on a Unix socket that turns each
 * request into an invocation (id, deadline, buffered body), runs the style adapter inside the
 * invocation's log context, and turns a thrown error into a 500 handler_error. On shutdown it
 * stops accepting, lets in-flight requests and `waitUntil` work finish, then closes.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Adapter, Invocation } from './invocation.ts';
import { failInvocation } from './respond.ts';
import { adoptAssignmentServer, readInvocation, type RequestInvocation } from '../support.ts';

/** What the server needs to know about the function it serves. */
export interface InstanceServerOptions {
  adapter: Adapter;
  /** Carries the invocation id to the log tagging of stdout and stderr. */
  store: AsyncLocalStorage<string>;
  vars: Record<string, string>;
  functionName: string;
  version: string;
  memoryMb: number;
  /** Used for the deadline when a request comes without `x-kumo-deadline`. */
  timeoutMs: number;
}

/** One instance's server. */
export class InstanceServer {
  private readonly options: InstanceServerOptions;
  private readonly server: Server;
  private inFlight = 0;
  private closing = false;
  private readonly background = new Set<Promise<unknown>>();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(options: InstanceServerOptions) {
    this.options = options;
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    // In a stem cell, the server the assignment came in on: already listening on the socket.
    this.server = adoptAssignmentServer(handle) ?? createServer(handle);
    // The only client is the platform, which manages its own pooled connections: a server-side
    // idle timeout would only race it (a request sent just as the socket closes is lost).
    this.server.keepAliveTimeout = 0;
  }

  /** Listens on `socketPath`, removing a stale socket file first (an adopted server already does). */
  async listen(socketPath: string): Promise<void> {
    if (this.server.listening) return;
    await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, waits for in-flight requests and `waitUntil` promises, then closes every connection. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await Promise.allSettled([...this.background]);
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    res.once('close', () => this.finished());
    // A stopping instance answers what it was sent but asks the client not to reuse the connection.
    if (this.closing) res.setHeader('connection', 'close');
    let read: RequestInvocation;
    try {
      read = await readInvocation(req, this.options.timeoutMs);
    } catch {
      res.destroy();
      return;
    }
    const invocation = this.invocation(read);
    await this.options.store.run(invocation.id, async () => {
      try {
        await this.options.adapter(req, res, invocation);
      } catch (err) {
        failInvocation(res, invocation, err);
      }
    });
  }

  private invocation(read: RequestInvocation): Invocation {
    const { vars, functionName, version, memoryMb } = this.options;
    return {
      ...read,
      vars,
      functionName,
      version,
      memoryMb,
      waitUntil: (promise) => this.keep(promise),
    };
  }

  /** Tracks background work so shutdown waits for it; its failure is logged, not fatal. */
  private keep(promise: unknown): void {
    const tracked = Promise.resolve(promise).catch((err: unknown) =>
      console.error('waitUntil promise rejected:', err),
    );
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private finished(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
