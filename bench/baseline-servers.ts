/**
 * The bench's baseline servers, each in its own process (so none shares a thread with the load
 * generator):
 *   hello PORT          raw node:http hello on TCP: the ceiling of this machine
 *   hello-socket PATH   the same hello on a Unix socket (the upstream of the proxy below)
 *   proxy PORT PATH     a minimal node:http reverse proxy to PATH with a keep-alive agent and
 *                       nothing else (no routing, limits, deadlines or records): the bound of any
 *                       design that forwards each request over HTTP to another process
 *   miniflare PORT      Cloudflare's workerd (through miniflare 4) running the same hello as a
 *                       module worker: the isolate peer
 * Each prints `ready` once listening.
 */
import http from 'node:http';
import { rmSync } from 'node:fs';
import { Miniflare } from 'miniflare';

const [mode, where, upstream] = process.argv.slice(2);

function hello(): http.Server {
  return http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('Hello, World!');
  });
}

function proxy(socketPath: string): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return http.createServer((req, res) => {
    const up = http.request(
      { agent, socketPath, path: req.url, method: req.method, headers: req.headers },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
}

const ready = () => console.log('ready');
if (mode === 'hello') hello().listen(Number(where), '127.0.0.1', ready);
else if (mode === 'hello-socket' && where) {
  rmSync(where, { force: true });
  hello().listen(where, ready);
} else if (mode === 'proxy' && upstream) proxy(upstream).listen(Number(where), '127.0.0.1', ready);
else if (mode === 'miniflare') {
  const mf = new Miniflare({
    modules: true,
    // the same function kumo's bench deploys (a fetch-style module)
    script: 'export default { fetch() { return new Response("Hello, World!"); } };',
    host: '127.0.0.1',
    port: Number(where),
  });
  await mf.ready;
  ready();
  process.once('SIGTERM', () => void mf.dispose().then(() => process.exit(0)));
} else {
  console.error(
    'usage: baseline-servers.ts hello PORT | hello-socket PATH | proxy PORT PATH | miniflare PORT',
  );
  process.exit(2);
}
