/**
 * `kumo up --reuse-port` (issue 14): two nodes on one machine listen on the same port with
 * SO_REUSEPORT, and connections to it reach both.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from './cluster-helpers.ts';

let cluster: TestCluster;
let port: number;
before(async () => {
  port = await freePort();
  cluster = await startCluster(['p1', 'p2'], ['--reuse-port', '--port', String(port)]);
});
after(async () => {
  await cluster?.dispose();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

test('two nodes share one port with --reuse-port, and connections reach both', async () => {
  const [p1, p2] = cluster.nodes;
  assert.ok(p1 && p2);
  assert.equal(new URL(p1.url).port, String(port));
  assert.equal(new URL(p2.url).port, String(port));
  const seen = new Set<string>();
  for (let i = 0; i < 60 && seen.size < 2; i++) {
    // A new connection each time: the kernel picks a listener per connection.
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/status`, {
      headers: { authorization: `Bearer ${p1.adminKey}`, connection: 'close' },
    });
    seen.add(String(((await res.json()) as { node: string }).node));
  }
  assert.deepEqual([...seen].sort(), ['p1', 'p2']);
});
