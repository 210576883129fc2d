/**
 * Hostile custom runtimes: bootstraps that misuse the Runtime API (garbage bytes, unknown paths,
 * another invocation's id, a response over Lambda's 6 MB, an exit mid-invocation) or never
 * finish initialising. Each gets a clear answer, the caller a clear JSON error, and the server
 * and a neighbour keep answering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  deploy,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from '../e2e/harness.ts';

type ErrorBody = { error: { code: string; message: string } };

/** A Node bootstrap (kumo's Node is on the bootstrap's PATH) that attacks the API on request. */
const ATTACKER = `#!/usr/bin/env node
const http = require('node:http');
const net = require('node:net');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const API = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function req(method, path, body, headers = {}) {
  return new Promise((resolve) => {
    const r = http.request({ host, port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', (err) => resolve({ status: 0, error: err.code }));
    r.end(body);
  });
}

function raw(bytes) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host);
    let out = '';
    socket.on('data', (c) => (out += c));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    socket.setTimeout(2000, () => socket.destroy());
    socket.end(bytes);
  });
}

async function main() {
  for (;;) {
    const next = await req('GET', API + '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const mode = JSON.parse(next.body).rawPath;
    const respond = (body) => req('POST', API + '/invocation/' + encodeURIComponent(id) + '/response', body);
    if (mode === '/garbage') {
      const found = {
        raw: (await raw('\\x00\\x01GARBAGE \\x7f\\r\\n\\r\\n')).split('\\r\\n')[0],
        unknownPath: (await req('GET', API + '/nope')).status,
        traversal: (await req('POST', API + '/invocation/' + id + '/../../init/error', '{}')).status,
        otherId: JSON.parse((await req('POST', API + '/invocation/not-' + id + '/response', '{"stolen":1}')).body).errorType,
        lateInitError: (await req('POST', API + '/init/error', '{}')).status,
        hugeHeader: (await raw('GET ' + API + '/invocation/next HTTP/1.1\\r\\nx-big: ' + 'a'.repeat(100000) + '\\r\\n\\r\\n')).split('\\r\\n')[0],
      };
      await respond(JSON.stringify(found));
    } else if (mode === '/huge') {
      const answer = await req('POST', API + '/invocation/' + id + '/response', Buffer.alloc(7 * 1024 * 1024, 0x61));
      console.error('huge answered ' + answer.status + ' ' + (answer.body || answer.error));
    } else if (mode === '/twice') {
      await respond('"first"');
      const again = await respond('"second"');
      console.error('second response answered ' + again.status + ' ' + again.body);
    } else if (mode === '/exit') {
      process.exit(3);
    } else {
      await respond(JSON.stringify({ ok: true, pid: process.pid }));
    }
  }
}
main();
`;

describe('hostile custom runtimes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: neighbour\n',
        'index.js': 'export default () => new Response("fine");\n',
      }),
    );
    await mustDeploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: attacker\nruntime: provided\ntimeout: 10s\n',
        bootstrap: ATTACKER,
      }),
    );
  });
  after(() => server.dispose());

  /** The server and a neighbour still answer. */
  async function healthy(): Promise<void> {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const res = await invoke(server, 'neighbour');
    assert.equal(await res.text(), 'fine');
  }

  test('garbage, unknown paths, another id, a late init error and huge headers get Lambda-style refusals', async () => {
    const res = await invoke(server, 'attacker', '/garbage');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      raw: 'HTTP/1.1 400 Bad Request',
      unknownPath: 404,
      traversal: 404,
      otherId: 'InvalidRequestID',
      lateInitError: 403,
      hugeHeader: 'HTTP/1.1 431 Request Header Fields Too Large',
    });
    await healthy();
  });

  test('a response over 6 MB is refused with 413 and the caller gets 502 response_too_large; the runtime serves on', async () => {
    const res = await invoke(server, 'attacker', '/huge');
    assert.equal(res.status, 502);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'response_too_large');
    assert.match(body.error.message, /larger than 6291456 bytes/);
    const after = await invoke(server, 'attacker', '/');
    assert.equal(after.status, 200);
    await healthy();
  });

  test('a second response to one invocation is refused; the first one counts', async () => {
    const res = await invoke(server, 'attacker', '/twice');
    assert.equal(await res.text(), '"first"');
    assert.equal((await invoke(server, 'attacker', '/')).status, 200);
  });

  test('a bootstrap that exits mid-invocation is a crash (502); the next call gets a fresh runtime', async () => {
    const before = ((await (await invoke(server, 'attacker', '/')).json()) as { pid: number }).pid;
    const res = await invoke(server, 'attacker', '/exit');
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'instance_crashed');
    const fresh = await invoke(server, 'attacker', '/');
    assert.equal(fresh.status, 200);
    assert.ok(((await fresh.json()) as { pid: number }).pid, `a runtime answers again (was pid ${before})`);
    await healthy();
  });

  test('init failures fail the deploy with what happened: no /next in time, an init error, an early exit', async () => {
    const cases: [string, string, RegExp][] = [
      ['sleeper', '#!/bin/sh\nexec sleep 600\n', /did not ask for an invocation .* within 10000ms/],
      [
        'init-error',
        `#!/bin/sh\ncurl -sS -o /dev/null -H 'Lambda-Runtime-Function-Error-Type: Runtime.BadConfig' -d '{"errorMessage":"no config","errorType":"Runtime.BadConfig"}' "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error"\nexec sleep 600\n`,
        /failed to initialise: Runtime\.BadConfig: no config/,
      ],
      ['quitter', '#!/bin/sh\nexit 7\n', /exited with code 7 before asking for an invocation/],
    ];
    // One after the other: the server runs two deploys at once.
    for (const [name, bootstrap, why] of cases) {
      const dir = await writeFunction({ 'kumo.yaml': `name: ${name}\nruntime: provided\n`, bootstrap });
      const { status, body } = await deploy(server, dir);
      // A version that built but did not start is a failed deploy, naming why it did not start.
      assert.equal(status, 422, JSON.stringify(body));
      const error = (body as ErrorBody).error;
      assert.equal(error.code, 'build_failed');
      assert.match(error.message, why);
    }
    const missing = await deploy(
      server,
      await writeFunction({ 'kumo.yaml': 'name: nobootstrap\nruntime: provided\n', 'main.sh': 'x' }),
    );
    assert.equal(missing.status, 400);
    assert.equal((missing.body as ErrorBody).error.code, 'unknown_handler');
    const concurrent = await deploy(
      server,
      await writeFunction({
        'kumo.yaml': 'name: wide\nruntime: provided\nconcurrency: 4\n',
        bootstrap: '#!/bin/sh\n',
      }),
    );
    assert.equal(concurrent.status, 400);
    assert.match((concurrent.body as ErrorBody).error.message, /concurrency.*must be 1 for runtime provided/);
    await healthy();
  });
});
