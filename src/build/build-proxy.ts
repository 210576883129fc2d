/**
 * The only network a build has: an HTTP proxy on a Unix socket that reaches exactly the
 * `host:port` pairs `kumo up --build-allow` lists (a registry, a mirror). Builds run in their own
 * network namespace with nothing but loopback; the build shim relays a loopback port to this
 * socket, and npm and pip are pointed at it as their proxy. Anything else — another host, another
 * port, a direct connection — is refused, with a line in the server log.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { ServerLog } from '../core/index.ts';

/** A running build proxy. */
export class BuildProxy {
  readonly socketPath: string;
  private readonly server: http.Server;
  private readonly dir: string;

  private constructor(server: http.Server, dir: string, socketPath: string) {
    this.server = server;
    this.dir = dir;
    this.socketPath = socketPath;
  }

  /** Starts a proxy to `allow` (lower-case `host:port` entries). */
  static async start(allow: string[], log: ServerLog): Promise<BuildProxy> {
    const allowed = new Set(allow.map((a) => a.toLowerCase()));
    const dir = await mkdtemp(path.join(os.tmpdir(), `kumo-proxy-${process.pid}-`));
    // The sandbox user must reach the socket, and the folder is bound read-only (so it must be
    // readable too: an unreadable one would be mirrored, and a mirror copies no socket).
    await chmod(dir, 0o755);
    const socketPath = path.join(dir, 'proxy.sock');
    const refuse = (what: string) => {
      log.warn('build proxy refused a connection', { to: what });
      return `kumo: builds may reach only ${[...allowed].join(', ')} (kumo up --build-allow), not ${what}\n`;
    };
    const server = http.createServer((req, res) => forward(req, res, allowed, refuse));
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      tunnel(req, socket, head, allowed, refuse),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o666);
    return new BuildProxy(server, dir, socketPath);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `host:port` of a CONNECT target or an absolute URL, lower-case; undefined when malformed. */
function targetOf(hostPort: string): { host: string; port: number; key: string } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(hostPort);
  if (!m?.[1] || !m[2]) return undefined;
  const host = m[1].toLowerCase();
  return { host: host.replace(/^\[|\]$/g, ''), port: Number(m[2]), key: `${host}:${m[2]}` };
}

/** CONNECT host:port (HTTPS through the proxy). */
function tunnel(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  allowed: Set<string>,
  refuse: (what: string) => string,
): void {
  client.on('error', () => {});
  const target = targetOf(req.url ?? '');
  if (!target || !allowed.has(target.key)) {
    client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${refuse(req.url ?? '?')}`);
    return;
  }
  const upstream = net.connect(target.port, target.host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  client.on('close', () => upstream.destroy());
}

/** A plain-HTTP request in absolute form (an http:// registry or mirror). */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: Set<string>,
  refuse: (what: string) => string,
): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end('kumo: the build proxy takes absolute http:// URLs or CONNECT\n');
    return;
  }
  const target = targetOf(
    `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || 80}`,
  );
  if (url.protocol !== 'http:' || !target || !allowed.has(target.key)) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end(refuse(url.host));
    return;
  }
  const upstream = http.request(
    {
      host: target.host,
      port: target.port,
      method: req.method,
      path: url.pathname + url.search,
      headers: req.headers,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}
