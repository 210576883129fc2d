/**
 * What the shims Node runs inside instances share (node, exec, lua). Each shim is bundled into
 * one file before it runs (shim-bundle.ts), so sharing this costs no mount. Node builtins only.
 */
import { closeSync, rmSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** The driver's end of the control pipe. */
const CONTROL_FD = 3;

/** The one message a shim sends the driver: ready, or why it could not load. */
export type ControlMessage = { type: 'ready' } | { type: 'error'; code: string; message: string };

/** Writes the one control message and closes fd 3, so user code cannot write a second one. */
export function report(message: ControlMessage): void {
  try {
    writeSync(CONTROL_FD, `${JSON.stringify(message)}\n`);
    closeSync(CONTROL_FD);
  } catch {
    // Started without the pipe (by hand): stderr is the only channel left.
    if (message.type === 'error') console.error(`${message.code}: ${message.message}`);
  }
}

/** Reads one control variable and deletes it, so the function never sees it ('' when unset). */
export function takeVariable(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  Reflect.deleteProperty(env, name);
  return value ?? '';
}

/**
 * Serves `handle` on the Unix socket, reports ready once listening, and on SIGTERM or SIGINT
 * stops taking connections, lets the requests in flight finish and exits. A handler that throws
 * gets a bare 500 (or a cut connection once the answer began), logged with `label`.
 */
export function serveOnSocket(
  socketPath: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  label: string,
): void {
  let inFlight = 0;
  let closing = false;
  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (closing && inFlight === 0) process.exit(0);
    });
    // A stopping instance answers what it was sent but asks the client not to reuse the connection.
    if (closing) res.setHeader('connection', 'close');
    handle(req, res).catch((err: unknown) => {
      console.error(`${label} error:`, err);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // The only client is the platform, which manages its own pooled connections: a server-side
  // idle timeout would only race it (a request sent just as the socket closes is lost).
  server.keepAliveTimeout = 0;
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => report({ type: 'ready' }));
  const stop = () => {
    closing = true;
    server.close();
    server.closeIdleConnections();
    if (inFlight === 0) process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
