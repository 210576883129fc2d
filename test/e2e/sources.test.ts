import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  api,
  apiJson,
  eventually,
  invoke,
  kumo,
  startTestServer,
  tarball,
  writeFunction,
  type TestServer,
} from './harness.ts';

type ErrorBody = { error: { code: string; message: string } };
type Result = {
  function: string;
  version: number;
  created: boolean;
  functions?: Result[];
  source?: { kind: string; format: string; commit?: string; repository?: string };
};

/** A zip made by python's zipfile: entries [name, content, unix mode (with type bits)]. */
function zipOf(file: string, entries: [string, string, number][]): void {
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name, content, mode in json.loads(sys.argv[2]):
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        z.writestr(info, content)
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
}

const REG = 0o100644;

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
}

async function postArchive(
  server: TestServer,
  body: Buffer,
  type: string,
  query = '',
): Promise<{ status: number; body: Result & ErrorBody }> {
  const res = await api(server, `/functions${query}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  return { status: res.status, body: (await res.json()) as Result & ErrorBody };
}

async function postRepository(
  server: TestServer,
  repository: string,
  ref?: string,
): Promise<{ status: number; body: Result & ErrorBody }> {
  const res = await api(server, '/functions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repository, ref }),
  });
  return { status: res.status, body: (await res.json()) as Result & ErrorBody };
}

describe('deploy sources', () => {
  let server: TestServer;
  let tmp: string;
  let watchDir: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kumo-sources-'));
    watchDir = path.join(tmp, 'deploy');
    await mkdir(watchDir);
    server = await startTestServer(['--allow-file-repos', '--watch', watchDir]);
  });
  after(async () => {
    await server.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a .zip deploys; zip-slip, absolute paths, leaving symlinks and devices are refused', async () => {
    const good = path.join(tmp, 'good.zip');
    zipOf(good, [
      ['hello.lua', "function main(args) return 'from a zip' end\n", REG],
      ['lib/', '', 0o040755],
    ]);
    const { readFile } = await import('node:fs/promises');
    const ok = await postArchive(server, await readFile(good), 'application/zip', '?fallbackName=zipped');
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.function, 'zipped');
    assert.equal(await (await invoke(server, 'zipped', '/')).text(), 'from a zip');
    const hostile: [[string, string, number][], RegExp][] = [
      [[['../evil.lua', 'x', REG]], /"\.\." path/],
      [[['a/../../evil.lua', 'x', REG]], /"\.\." path/],
      [[['/etc/evil', 'x', REG]], /absolute path/],
      [[['link', '/etc/passwd', 0o120777]], /absolute path/],
      [[['d/link', '../../x', 0o120777]], /outside the bundle/],
      [[['dev', '', 0o020644]], /device, FIFO or socket/],
      [[['fifo', '', 0o010644]], /device, FIFO or socket/],
    ];
    for (const [entries, pattern] of hostile) {
      const file = path.join(tmp, 'bad.zip');
      zipOf(file, [['ok.lua', 'function main() return 1 end', REG], ...entries]);
      const res = await postArchive(server, await readFile(file), 'application/zip', '?fallbackName=bad');
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'invalid_archive');
      assert.match(res.body.error.message, pattern);
    }
    assert.equal((await api(server, '/functions/bad')).status, 404);
  });

  test('kumo deploy of a .zip, a .tar.gz and a single file', async () => {
    const zip = path.join(tmp, 'cli-zip.zip');
    zipOf(zip, [['lambda.py', 'def main(input, environment):\n    return "zip via cli"\n', REG]]);
    const fromZip = await kumo(server.url, ['deploy', zip]);
    assert.equal(fromZip.code, 0, fromZip.stderr);
    assert.match(fromZip.stdout, /cli-zip is live at/);
    assert.equal(await (await invoke(server, 'cli-zip', '/')).text(), 'zip via cli');

    const dir = await writeFunction({ 'kumo.yaml': 'name: from-tar\nruntime: exec\ncommand: [cat]\n' });
    const tgz = path.join(tmp, 'fn.tar.gz');
    await writeFile(tgz, await tarball(dir));
    const fromTar = await kumo(server.url, ['deploy', tgz]);
    assert.equal(fromTar.code, 0, fromTar.stderr);
    assert.equal(
      await (await invoke(server, 'from-tar', '/', { method: 'POST', body: 'echo' })).text(),
      'echo',
    );

    const file = path.join(tmp, 'evil.lua');
    await writeFile(
      file,
      "function main(args)\n  strings = {}\n  while true do table.insert(strings, 'evil') end\nend\n",
    );
    const single = await kumo(server.url, ['deploy', file, '--lua-memory', '5000']);
    assert.equal(single.code, 0, single.stderr);
    assert.match(single.stdout, /evil is live at/);
    const res = await invoke(server, 'evil', '/', { method: 'POST' });
    assert.equal(res.status, 500);
    await eventually(
      () =>
        server.logLines.some((l) => l.includes("Function 'evil' aborted after violating memory constraints")),
      5000,
      'the log line',
    );
  });

  test('a git repository deploys at a ref, records the commit, and an unchanged commit is a no-op', async () => {
    const repo = path.join(tmp, 'repo-fn');
    await mkdir(repo);
    git(repo, 'init', '-q');
    await writeFile(path.join(repo, 'kumo.yaml'), 'runtime: lua\n');
    await writeFile(path.join(repo, 'main.lua'), "function main() return 'v1' end\n");
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'v1');
    const first = git(repo, 'rev-parse', 'HEAD');
    const url = `file://${repo}`;
    const res = await postRepository(server, url);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.function, 'repo-fn', 'named after the repository');
    assert.equal(res.body.source?.commit, first);
    assert.equal(await (await invoke(server, 'repo-fn', '/')).text(), 'v1');

    const again = await postRepository(server, url);
    assert.equal(again.status, 200);
    assert.equal(again.body.created, false);
    assert.equal(
      again.body.source?.format,
      'unchanged',
      'answered from the recorded commit, without a build',
    );

    await writeFile(path.join(repo, 'main.lua'), "function main() return 'v2' end\n");
    git(repo, 'commit', '-qam', 'v2');
    git(repo, 'checkout', '-qb', 'feature');
    await writeFile(path.join(repo, 'main.lua'), "function main() return 'feature' end\n");
    git(repo, 'commit', '-qam', 'feature');
    const cli = await kumo(server.url, ['deploy', url, '--ref', 'main']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(await (await invoke(server, 'repo-fn', '/')).text(), 'v2');
    const byCommit = await postRepository(server, url, first);
    assert.equal(byCommit.status, 201);
    assert.equal(byCommit.body.version, 3);
    assert.equal(await (await invoke(server, 'repo-fn', '/')).text(), 'v1');
    const versions = await apiJson<{
      versions: { version: number; source?: { kind: string; commit?: string; ref?: string } }[];
    }>(server, '/functions/repo-fn/versions');
    assert.deepEqual(
      versions.versions.map((v) => [v.version, v.source?.kind, v.source?.ref, v.source?.commit === first]),
      [
        [1, 'git', undefined, true],
        [2, 'git', 'main', false],
        [3, 'git', first, true],
      ],
    );

    const missing = await postRepository(server, url, 'no-such-branch');
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error.code, 'source_failed');
  });

  test('file:// repositories are refused unless the server allows them', async () => {
    const strict = await startTestServer();
    try {
      const res = await postRepository(strict, `file://${tmp}/repo-fn`);
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /local repositories are disabled/);
    } finally {
      await strict.dispose();
    }
  });

  test('an eserveless project deploys one function per entry, with meta, routes and the cron schedule', async () => {
    const repo = path.join(tmp, 'node-eserveless-example');
    await mkdir(repo);
    git(repo, 'init', '-q');
    await writeFile(
      path.join(repo, '.eserveless.yaml'),
      'repo: https://github.com/evanxg852000/node-eserveless-example\nruntime: node\nfunctions:\n- name: API\n  type: http\n- name: Ticker\n  type: cron\n  schedule: "*/1 * * * *"\n  meta:\n    path: "/usr/bin"\n    name: prod\n',
    );
    await writeFile(
      path.join(repo, 'functions.js'),
      "function API(req, res) {\n  res.writeHead(200);\n  res.end('Hello, World! meta=' + JSON.stringify(req.meta));\n}\nfunction Ticker(envs) {\n  console.log(envs);\n  return 'ticked ' + envs.name;\n}\nmodule.exports = { API, Ticker };\n",
    );
    await writeFile(path.join(repo, 'package.json'), '{"name":"node-eserveless-example","private":true}\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'project');
    const res = await postRepository(server, `file://${repo}`);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.functions?.map((f) => f.function),
      ['api', 'ticker'],
    );
    assert.equal(await (await invoke(server, 'api', '/')).text(), 'Hello, World! meta={}');
    assert.equal(await (await invoke(server, 'ticker', '/', { method: 'POST' })).text(), 'ticked prod');
    const schedules = await apiJson<{ schedules: { cron: string }[] }>(server, '/functions/ticker/schedules');
    assert.deepEqual(
      schedules.schedules.map((s) => s.cron),
      ['*/1 * * * *'],
    );
    const again = await postRepository(server, `file://${repo}`);
    assert.equal(again.body.created, false);
    assert.deepEqual(
      again.body.functions?.map((f) => f.created),
      [false, false],
    );
  });

  test('a run.json folder deploys unchanged: executable and interpreted python', async () => {
    const jq = await writeFunction({
      'run.json': '{ "type":"executable", \n"language":"x86-64", "command":"jq.exe", "arguments":"."}',
    });
    const cli = await kumo(server.url, ['deploy', jq, '--name', 'shorted-jq']);
    assert.equal(cli.code, 0, cli.stderr);
    const res = await invoke(server, 'shorted-jq', '/', { method: 'POST', body: '{"a":[1,2]}' });
    assert.equal(await res.text(), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    const py = await writeFunction({
      'run.json':
        '{ "type":"interpreted", \n"language":"python", "command":"python", "arguments":"lambda.py"}',
      'lambda.py': 'def main(input, environment):\n    environment.code = 202\n    return input[::-1]\n',
    });
    assert.equal((await kumo(server.url, ['deploy', py, '--name', 'shorted-py'])).code, 0);
    const rev = await invoke(server, 'shorted-py', '/', { method: 'POST', body: 'abc' });
    assert.equal(rev.status, 202);
    assert.equal(await rev.text(), 'cba');
  });

  test('the watched deploy folder deploys, redeploys on change, keeps serving on a broken build, deletes on removal', async () => {
    const fn = path.join(watchDir, 'watched');
    await mkdir(fn);
    await writeFile(path.join(fn, 'main.lua'), "function main() return 'one' end\n");
    await eventually(
      async () => (await invoke(server, 'watched', '/')).status === 200 && true,
      15_000,
      'first deploy',
    );
    assert.equal(await (await invoke(server, 'watched', '/')).text(), 'one');
    await writeFile(path.join(fn, 'main.lua'), "function main() return 'two' end\n");
    await eventually(
      async () => (await (await invoke(server, 'watched', '/')).text()) === 'two',
      15_000,
      'redeploy',
    );
    await writeFile(path.join(fn, 'main.lua'), 'function main( return end\n');
    await eventually(
      () => server.logLines.some((l) => l.includes('deploy folder: deploy failed') && l.includes('watched')),
      15_000,
      'failed build logged',
    );
    assert.equal(
      await (await invoke(server, 'watched', '/')).text(),
      'two',
      'the previous version keeps serving',
    );
    const versions = await apiJson<{ versions: unknown[] }>(server, '/functions/watched/versions');
    assert.equal(versions.versions.length, 2);
    await rm(fn, { recursive: true });
    await eventually(async () => (await api(server, '/functions/watched')).status === 404, 15_000, 'removal');
  });
});
