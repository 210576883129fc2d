import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  apiJson,
  deploy,
  eventually,
  invoke,
  mustDeploy,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

type ErrorBody = { error: { code: string; message: string; details?: { log?: string } } };
type LogLines = { lines: { line: string; stream: string; invocationId: string | null }[] };

/** A wheel (a zip with METADATA, WHEEL and RECORD) holding one module, made offline with python's zipfile. */
async function makeWheel(dir: string): Promise<string> {
  const file = path.join(dir, 'tinylib-1.0-py3-none-any.whl');
  const script = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('tinylib.py', 'def shout(s):\\n    return s.upper() + "!"\\n')
    z.writestr('tinylib-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: tinylib\\nVersion: 1.0\\n')
    z.writestr('tinylib-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: kumo-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr('tinylib-1.0.dist-info/RECORD', '')
`;
  execFileSync('python3', ['-c', script, file]);
  return file;
}

describe('python runtime', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('plain main(input, environment) in lambda.py: raw body in, value out, environment.code sets the status', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: py-plain\nruntime: python\nenv:\n  GREETING: hi\n',
      'lambda.py': [
        'import json',
        'def main(input, environment):',
        '    print("got", input)',
        '    if input == "boom":',
        '        raise ValueError("boom")',
        '    environment.code = 201',
        '    return {"echo": input, "method": environment.method, "q": environment.query, "greeting": environment["GREETING"]}',
        '',
      ].join('\n'),
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'py-plain', '/x?a=1', { method: 'POST', body: 'hello' });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { echo: 'hello', method: 'POST', q: { a: '1' }, greeting: 'hi' });
    const failed = await invoke(server, 'py-plain', '/', { method: 'POST', body: 'boom' });
    assert.equal(failed.status, 500);
    const body = (await failed.json()) as ErrorBody;
    assert.equal(body.error.code, 'handler_error');
    assert.doesNotMatch(body.error.message, /ValueError/, 'the traceback stays in the logs');
    const logs = await eventually(async () => {
      const l = await apiJson<LogLines>(server, '/functions/py-plain/logs');
      return l.lines.some((x) => /ValueError: boom/.test(x.line)) && l;
    });
    const printed = logs.lines.find((l) => l.line === 'got hello');
    assert.ok(printed?.invocationId, 'print() inside an invocation is attributed to it');
  });

  test('AWS-style handler(event, context) keeps module state between requests (warm)', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: py-aws\nruntime: python\nhandler: app.handler\n',
      'app.py': [
        'import json',
        'calls = 0',
        'def handler(event, context):',
        '    global calls',
        '    calls += 1',
        '    return {"statusCode": 202, "headers": {"x-fn": context.function_name},',
        '            "body": json.dumps({"calls": calls, "q": event.get("queryStringParameters"), "method": event["requestContext"]["http"]["method"],',
        '                                "left": context.get_remaining_time_in_millis() > 0})}',
        '',
      ].join('\n'),
    });
    await mustDeploy(server, dir);
    const first = await invoke(server, 'py-aws', '/?name=x');
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('x-fn'), 'py-aws');
    assert.deepEqual(await first.json(), { calls: 1, q: { name: 'x' }, method: 'GET', left: true });
    const second = (await (await invoke(server, 'py-aws', '/')).json()) as { calls: number };
    assert.equal(second.calls, 2);
  });

  test('requirements.txt is installed at build time (a local wheel, offline)', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: py-deps\nruntime: python\n',
      'handler.py': 'import tinylib\ndef handler(event, context):\n    return tinylib.shout("kumo")\n',
    });
    await makeWheel(dir);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'requirements.txt'), './tinylib-1.0-py3-none-any.whl\n');
    const result = await mustDeploy(server, dir);
    assert.match(String(result.buildLog), /pip install/);
    assert.equal(await (await invoke(server, 'py-deps', '/')).text(), 'KUMO!');
  });

  test('a syntax error fails the build; a module without handler is unknown_handler', async () => {
    const broken = await writeFunction({
      'kumo.yaml': 'name: py-broken\nruntime: python\n',
      'main.py': 'def main(input, environment)\n    return 1\n',
    });
    const res = await deploy(server, broken);
    assert.equal(res.status, 422);
    const error = (res.body as ErrorBody).error;
    assert.equal(error.code, 'build_failed');
    assert.match(error.details?.log ?? '', /SyntaxError|invalid syntax|expected ':'/);
    const none = await writeFunction({
      'kumo.yaml': 'name: py-none\nruntime: python\n',
      'main.py': 'def helper():\n    return 1\n',
    });
    const missing = await deploy(server, none);
    assert.equal(missing.status, 400);
    assert.equal((missing.body as ErrorBody).error.code, 'unknown_handler');
    assert.match(
      (missing.body as ErrorBody).error.message,
      /handler\(event, context\) or main\(input, environment\)/,
    );
  });
});

describe('exec runtime', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('a jq filter: body on stdin, stdout out, a failing exit is a 500 without stderr', async () => {
    const dir = await writeFunction({ 'kumo.yaml': 'name: jq-name\nruntime: exec\ncommand: jq -c .name\n' });
    await mustDeploy(server, dir);
    const ok = await invoke(server, 'jq-name', '/', { method: 'POST', body: '{"name":"kumo"}' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '"kumo"\n');
    const bad = await invoke(server, 'jq-name', '/', { method: 'POST', body: '{not json' });
    assert.equal(bad.status, 500);
    const body = (await bad.json()) as ErrorBody;
    assert.equal(body.error.code, 'handler_error');
    assert.match(body.error.message, /exited with code/);
    assert.doesNotMatch(body.error.message, /parse error/, 'stderr is not in the response');
    await eventually(
      async () =>
        (await apiJson<LogLines>(server, '/functions/jq-name/logs')).lines.some((l) =>
          /parse error/.test(l.line),
        ),
      10_000,
      'jq stderr in the logs',
    );
  });

  test('method, path, query, headers and variables reach a script as CGI variables', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: cgi\nruntime: exec\ncommand: ./run.sh\nenv:\n  WHO: kumo\n',
      'run.sh':
        '#!/bin/sh\nread -r body\nprintf "%s|%s|%s|%s|%s|%s" "$REQUEST_METHOD" "$PATH_INFO" "$QUERY_STRING" "$HTTP_X_TEST" "$WHO" "$body"\nexit 0\n',
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'cgi', '/a/b?x=1', {
      method: 'PUT',
      body: 'payload\n',
      headers: { 'x-test': 'yes' },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'PUT|/a/b|x=1|yes|kumo|payload');
  });

  test('a program running past the timeout is stopped with 504, and the next request is served', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: slow\nruntime: exec\ntimeout: 1s\ncommand: ./slow.sh\n',
      'slow.sh': '#!/bin/sh\nif [ "$QUERY_STRING" = "fast" ]; then echo fast; exit 0; fi\nexec sleep 30\n',
    });
    await mustDeploy(server, dir);
    const began = Date.now();
    const res = await invoke(server, 'slow', '/');
    assert.equal(res.status, 504);
    assert.ok(Date.now() - began < 10_000);
    assert.equal(await (await invoke(server, 'slow', '/?fast')).text(), 'fast\n');
  });

  test('a command that is neither in the bundle nor installed fails the build', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: nosuch\nruntime: exec\ncommand: no-such-program-kumo\n',
    });
    const res = await deploy(server, dir);
    assert.equal(res.status, 422);
    assert.match((res.body as ErrorBody).error.message, /neither a file of the bundle nor a program/);
  });
});

describe('lua runtime', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.dispose());

  test('main(args) gets the JSON payload (or query) as a table; strings are text, tables JSON', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: lua-hello\nruntime: lua\n',
      'hello.lua':
        "function main(args)\n  if args.name == nil then args.name = 'World' end\n  if args.list then return { n = #args.list, first = args.list[1] } end\n  return 'Hello ' .. args.name\nend\n",
    });
    const result = await mustDeploy(server, dir);
    assert.match(String(result.buildLog), /compiled to \d+ bytes of bytecode/);
    const res = await invoke(server, 'lua-hello', '/', { method: 'POST', body: '{"name":"from Lua"}' });
    assert.equal(await res.text(), 'Hello from Lua');
    assert.equal(await (await invoke(server, 'lua-hello', '/?name=query')).text(), 'Hello query');
    const table = await invoke(server, 'lua-hello', '/', { method: 'POST', body: '{"list":[5,6,7]}' });
    assert.deepEqual(await table.json(), { n: 3, first: 5 });
  });

  test('a memory hog is stopped by the VM: 500, the server log line, and the next run works', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: evil\nruntime: lua\nlua:\n  maxmem: 20000\n',
      'evil.lua':
        "function main(args)\n  if args.ok then return 'fine' end\n  strings = {}\n  while true do table.insert(strings, 'evil') end\nend\n",
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'evil', '/', { method: 'POST' });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'memory_limit_exceeded');
    await eventually(
      () =>
        server.logLines.some((l) => l.includes("Function 'evil' aborted after violating memory constraints")),
      5000,
      'the server log line',
    );
    assert.equal(
      await (await invoke(server, 'evil', '/', { method: 'POST', body: '{"ok":true}' })).text(),
      'fine',
    );
  });

  test('a runaway loop is stopped at the VM time limit with 504, the instance keeps serving', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: spin\nruntime: lua\nlua:\n  timeout: 200\n',
      'spin.lua': "function main(args)\n  if args.ok then return 'fine' end\n  while true do end\nend\n",
    });
    await mustDeploy(server, dir);
    const began = Date.now();
    const res = await invoke(server, 'spin', '/');
    assert.equal(res.status, 504);
    assert.ok(Date.now() - began < 5000, 'stopped by the VM limit, not the function timeout');
    assert.equal(((await res.json()) as ErrorBody).error.code, 'deadline_exceeded');
    assert.equal(await (await invoke(server, 'spin', '/?ok=1')).text(), 'fine');
  });

  test('io, os.execute, debug, native require and bytecode load are gone; bundle modules can be required', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: jail\nruntime: lua\nhandler: main.lua\n',
      'util.lua': 'return { twice = function(x) return x * 2 end }\n',
      'main.lua': [
        'function main(args)',
        '  local bytecode_ok = pcall(function() return load(string.dump(function() return 1 end)) end)',
        '  local loaded = load(string.dump(function() return 1 end))',
        '  local native_ok = pcall(require, "socket")',
        '  return { io = io == nil, execute = os.execute == nil, debug = debug == nil, pkg = package == nil,',
        '           dofile = dofile == nil, bytecode = loaded == nil, native = native_ok, text = load("return 41 + 1")(),',
        '           util = require("util").twice(21), time = type(os.time()) }',
        'end',
        '',
      ].join('\n'),
    });
    await mustDeploy(server, dir);
    const res = await invoke(server, 'jail', '/');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      io: true,
      execute: true,
      debug: true,
      pkg: true,
      dofile: true,
      bytecode: true,
      native: false,
      text: 42,
      util: 42,
      time: 'number',
    });
  });

  test('a syntax error fails the deploy with the line', async () => {
    const dir = await writeFunction({
      'kumo.yaml': 'name: lua-bad\nruntime: lua\n',
      'bad.lua': 'function main(args)\n  return 1\n',
    });
    const res = await deploy(server, dir);
    assert.equal(res.status, 422);
    assert.match((res.body as ErrorBody).error.message, /bad\.lua:\d+:.*'end' expected/);
  });
});

describe('runtime detection', () => {
  let server: TestServer;
  let tmp: string;
  before(async () => {
    server = await startTestServer();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kumo-detect-'));
  });
  after(async () => {
    await server.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a folder without kumo.yaml runtime is lua for .lua files and python for lambda.py', async () => {
    const lua = await writeFunction({ 'greet.lua': "function main(args) return 'lua here' end\n" });
    await mustDeploy(server, lua, 'name=detect-lua');
    assert.equal(await (await invoke(server, 'detect-lua', '/')).text(), 'lua here');
    const py = await writeFunction({
      'kumo.yaml': 'name: detect-py\n',
      'lambda.py': 'def main(input, environment):\n    return "python here"\n',
    });
    await mustDeploy(server, py);
    assert.equal(await (await invoke(server, 'detect-py', '/')).text(), 'python here');
  });
});
