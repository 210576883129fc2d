/** Helpers of the async, cron and history tests: a loopback callback receiver, and /metrics with credentials. */
import http from 'node:http';

/** The receiver and what it got. */
export interface Receiver {
  url: string;
  /** Parsed JSON bodies, in arrival order. */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 that answers `status` (default 200) to every POST. */
export async function startReceiver(status: () => number = () => 200): Promise<Receiver> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status();
      if (code < 300)
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** GET /metrics with the server's admin key (metrics need the read scope). */
export async function metricsText(server: { url: string; adminKey?: string }): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: server.adminKey ? { authorization: `Bearer ${server.adminKey}` } : {},
  });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
  return res.text();
}
