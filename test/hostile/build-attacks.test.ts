/**
 * Deploy-time attacks: bundles that try to make the *build* run their code on the host, read host
 * files into the artefact, or write and chmod host files through symlinks. Every attack goes
 * through the real HTTP deploy (POST /api/v1/functions) with a deploy-scoped API key, against a
 * sandboxed server (no --insecure-no-sandbox), as `npm start` runs it.
 *
 * Every target is inside a fresh mkdtemp "canary" folder of this test (random content); nothing
 * else on the machine is touched. The assertions are about outcomes, and hold whether the fixed
 * kumo refuses a deploy (a 4xx JSON error) or builds it safely in the build sandbox (unprivileged
 * uid, only the bundle visible at /var/task, no network):
 *   - the canary folder is exactly as before (nothing created, written or chmodded),
 *   - code of the bundle that ran during the build did not run as uid 0 (it records its uid in
 *     the build log as `KUMO-EVIL-UID=<n>` and in `uid.txt` beside itself, which the deployed
 *     function serves back),
 *   - host secrets appear in no answer, build log, invocation or kumo temporary file,
 *   - /healthz answers 200 and a neighbour function still answers after every attack.
 *
 * Against the code before the build sandbox, most of these fail (that is the point): see each
 * test's comment for the ones that cannot.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, invoke, startTestServer, tarball, writeFunction, type TestServer } from '../e2e/harness.ts';
import {
  canaryDirs,
  chainLevels,
  filesContaining,
  makeCanary,
  plant,
  randomMarker,
  removeCanaries,
  scratchDir,
  snapshot,
  snapshotDiff,
  symlinkChain,
  tarGz,
  uidsIn,
  zipOf,
  type ArchiveEntry,
  type Canary,
} from './build-attack-helpers.ts';

/** What a deploy answered. */
interface Outcome {
  status: number;
  text: string;
  body: { function?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
}

/** Violated expectations of one test, reported all together. */
class Findings {
  readonly problems: string[] = [];
  check(ok: boolean, message: string): void {
    if (!ok) this.problems.push(message);
  }
  done(): void {
    if (this.problems.length)
      assert.fail(`${this.problems.length} problem(s):\n- ${this.problems.join('\n- ')}`);
  }
}

/** Python code that records its uid (build log and uid.txt beside itself) and tries the canary. */
function evilPython(target: string): string {
  return `import os, sys
_uid = os.getuid()
sys.stderr.write('KUMO-EVIL-UID=%d\\n' % _uid)
sys.stderr.flush()
try:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'uid.txt'), 'a') as _f:
        _f.write('%d\\n' % _uid)
except Exception:
    pass
try:
    with open(${JSON.stringify(target)}, 'a') as _f:
        _f.write('pwned by uid %d\\n' % _uid)
except Exception:
    pass
`;
}

/** A python handler that serves uid.txt (beside it), or "absent". */
const PYTHON_HANDLER = `import os

def handler(event, context):
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'uid.txt')) as f:
            body = f.read()
    except OSError:
        body = 'absent'
    return {"statusCode": 200, "body": body}
`;

/** A node handler that serves uid.txt (beside it), or "absent". */
const NODE_HANDLER = `import { readFileSync } from 'node:fs';
export default () => {
  try {
    return new Response(readFileSync(new URL('./uid.txt', import.meta.url), 'utf8'));
  } catch {
    return new Response('absent');
  }
};
`;

/** CommonJS code that records its uid (stderr and uid.txt beside itself) and tries the canary. */
function evilCjs(target: string): string {
  return `const fs = require('node:fs');
const path = require('node:path');
const uid = process.getuid();
process.stderr.write('KUMO-EVIL-UID=' + uid + '\\n');
try { fs.appendFileSync(path.join(__dirname, 'uid.txt'), uid + '\\n'); } catch {}
try { fs.appendFileSync(${JSON.stringify(target)}, 'pwned by uid ' + uid + '\\n'); } catch {}
`;
}

/** A shell script that records its uid, tries the canary, then runs the real git (file:// only) or fails. */
function evilGit(target: string): string {
  return `#!/bin/sh
uid=$(id -u)
echo "KUMO-EVIL-UID=$uid" >&2
here=$(cd "$(dirname "$0")" && pwd)
echo "$uid" >> "$here/uid.txt" 2>/dev/null
echo "pwned by uid $uid" >> '${target}' 2>/dev/null
case "$*" in
  *file://*) exec git "$@" ;;
esac
exit 1
`;
}

describe('deploy-time attacks (build sandbox, safe unpacking)', () => {
  let server: TestServer;
  let deployKey = '';
  let levels = 0;
  const savedEnv: Record<string, string | undefined> = {};

  /** Environment the in-process server passes to npm and pip: caches in our own scratch folder. */
  const setEnv = (key: string, value: string) => {
    if (!(key in savedEnv)) savedEnv[key] = process.env[key];
    process.env[key] = value;
  };

  before(async () => {
    // npm and pip (today run on the host) must not fill root's own caches with these attacks.
    setEnv('npm_config_cache', path.join(await scratchDir('kumo-canary-npm-cache-'), 'cache'));
    setEnv('PIP_NO_CACHE_DIR', '1');
    server = await startTestServer();
    const res = await api(server, '/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'attacker', scopes: ['deploy'] }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    deployKey = ((await res.json()) as { key: string }).key;
    levels = await chainLevels(server.dataDir);
    const neighbour = await writeFunction({
      'kumo.yaml': 'name: neighbour\n',
      'index.js': 'export default () => new Response("fine");\n',
    });
    const deployed = await upload(await tarball(neighbour));
    assert.equal(deployed.status, 201, deployed.text);
  });

  after(async () => {
    await server?.dispose();
    await removeCanaries();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
  });

  /** POSTs `archive` (tar.gz or zip) as the deploy-scoped key. */
  async function upload(archive: Buffer): Promise<Outcome> {
    const res = await api(
      server,
      '/functions',
      { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: archive },
      { key: deployKey },
    );
    const text = await res.text();
    let body: Outcome['body'];
    try {
      body = JSON.parse(text) as Outcome['body'];
    } catch {
      body = undefined;
    }
    return { status: res.status, text, body };
  }

  /** Deploys a folder written from `files`; `executable` files get mode 0755 (the tar keeps it). */
  async function deployFiles(
    files: Record<string, string | Buffer>,
    executable: string[] = [],
  ): Promise<Outcome> {
    const dir = await writeFunction(files);
    for (const file of executable) await chmod(path.join(dir, file), 0o755);
    return upload(await tarball(dir));
  }

  /**
   * The one disjunction every attack allows: refused with a 4xx JSON error carrying a code, or
   * deployed (200/201) as `name`. Anything else (a 5xx, a non-JSON answer) is a finding.
   */
  function refusedOrBuilt(o: Outcome, name: string, f: Findings): 'refused' | 'built' | 'neither' {
    const code = o.body?.error?.code;
    if (o.status >= 400 && o.status < 500 && typeof code === 'string') return 'refused';
    if ((o.status === 200 || o.status === 201) && o.body?.function === name) return 'built';
    f.check(
      false,
      `deploy of ${name}: expected a 4xx JSON error or a successful deploy, got ${o.status}: ${o.text.slice(0, 400)}`,
    );
    return 'neither';
  }

  /** Every uid recorded by the attack's code: build log (the answer), the function's logs, uid.txt it serves. */
  async function recordedUids(o: Outcome, name: string, built: boolean): Promise<number[]> {
    const uids = uidsIn(o.text);
    if (built) {
      const res = await invoke(server, name);
      uids.push(...uidsIn(await res.text(), true));
      // instance output (a --require'd module at start) lands in the function's logs
      const logs = await api(server, `/functions/${name}/logs?limit=1000`);
      if (logs.ok) uids.push(...uidsIn(await logs.text()));
    }
    return uids;
  }

  /** No recorded uid is 0. */
  async function checkUids(o: Outcome, name: string, outcome: string, f: Findings): Promise<number[]> {
    const uids = await recordedUids(o, name, outcome === 'built');
    f.check(
      !uids.includes(0),
      `code shipped in the bundle ran as uid 0 during the deploy of ${name} (recorded uids: ${uids.join(', ')}; deploy answered ${o.status})`,
    );
    return uids;
  }

  /** The canary folder is as it was. */
  async function checkCanary(canary: Canary, before: Record<string, string>, f: Findings): Promise<void> {
    const changes = snapshotDiff(before, await snapshot(canary.dir));
    f.check(changes.length === 0, `canary folder ${canary.dir} changed: ${changes.join('; ')}`);
  }

  /** The server is healthy: /healthz 200 and the neighbour answers. */
  async function checkHealth(f: Findings): Promise<void> {
    const health = await fetch(`${server.url}/healthz`).catch((err: Error) => err);
    f.check(
      !(health instanceof Error) && health.status === 200,
      `/healthz after the attack: ${String(health instanceof Error ? health.message : health.status)}`,
    );
    const res = await invoke(server, 'neighbour').catch((err: Error) => err);
    const text = res instanceof Error ? res.message : `${res.status} ${await res.text()}`;
    f.check(text === '200 fine', `the neighbour after the attack answered ${text}`);
  }

  /** Nothing is left in the data dir's tmp/ (work folders of deploys). */
  async function checkNoLeftovers(f: Findings): Promise<void> {
    const left = await readdir(path.join(server.dataDir, 'tmp')).catch(() => [] as string[]);
    f.check(left.length === 0, `left behind under ${server.dataDir}/tmp: ${left.join(', ')}`);
  }

  // ---------------------------------------------------------------------------------------------
  // 1. python: modules of the bundle that the build's own python tools import
  // ---------------------------------------------------------------------------------------------

  /** Deploys a python function with `extra` files (each may use the canary) and checks the outcomes. */
  async function pythonAttack(name: string, extra: (c: Canary) => Record<string, string>): Promise<void> {
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const f = new Findings();
    const o = await deployFiles({
      'kumo.yaml': `name: ${name}\nruntime: python\n`,
      'handler.py': PYTHON_HANDLER,
      ...extra(canary),
    });
    const outcome = refusedOrBuilt(o, name, f);
    await checkUids(o, name, outcome, f);
    await checkCanary(canary, before, f);
    await checkHealth(f);
    f.done();
  }

  test('1a. a python bundle shipping compileall.py does not run it as root', async () => {
    // The build runs `python3 -m compileall` in the bundle: -m puts the cwd first on sys.path.
    await pythonAttack('py-compileall', (c) => ({ 'compileall.py': evilPython(c.target) }));
  });

  test('1b. a python bundle shipping pip.py with a requirements.txt does not run it as root', async () => {
    // `python3 -m pip install -r requirements.txt` runs the bundle's pip.py. The requirement is
    // offline (--no-index, a name that does not exist): a real pip fails without any network.
    await pythonAttack('py-pip', (c) => ({
      'pip.py': evilPython(c.target),
      'requirements.txt': '--no-index\nkumo-no-such-package-for-tests==1.0\n',
    }));
  });

  test('1c. a python bundle shipping sitecustomize.py / usercustomize.py does not run them as root', async () => {
    // Today's build does not reach these (site runs before -m puts the cwd on sys.path, and the
    // build passes no PYTHONPATH), so this one may pass today; it guards the sandboxed build,
    // which may put /var/task on PYTHONPATH.
    await pythonAttack('py-sitecustomize', (c) => ({
      'sitecustomize.py': evilPython(c.target),
      'usercustomize.py': evilPython(c.target),
    }));
  });

  test('1d. a python bundle shadowing a stdlib module compileall imports (py_compile.py) does not run it as root', async () => {
    // The stronger form of 1c: compileall imports py_compile after the cwd is on sys.path.
    await pythonAttack('py-shadow', (c) => ({ 'py_compile.py': evilPython(c.target) }));
  });

  // ---------------------------------------------------------------------------------------------
  // 2. node: .npmrc pointing npm's git at a script of the bundle
  // ---------------------------------------------------------------------------------------------

  async function npmGitAttack(name: string, dependency: (c: Canary) => Promise<string>): Promise<void> {
    const canary = await makeCanary();
    const spec = await dependency(canary);
    const before = await snapshot(canary.dir);
    const f = new Findings();
    const o = await deployFiles(
      {
        'kumo.yaml': `name: ${name}\n`,
        'index.js': NODE_HANDLER,
        '.npmrc': 'git=./evil.sh\n',
        'evil.sh': evilGit(canary.target),
        'package.json': JSON.stringify({ name, version: '1.0.0', dependencies: { dep: spec } }),
      },
      ['evil.sh'],
    );
    const outcome = refusedOrBuilt(o, name, f);
    await checkUids(o, name, outcome, f);
    await checkCanary(canary, before, f);
    await checkHealth(f);
    f.done();
  }

  test('2a. .npmrc git=./evil.sh with a git+file:// dependency does not run evil.sh as root', async () => {
    await npmGitAttack('npm-git-file', async () => {
      // a real local repository (in our scratch folder), so that today's deploy succeeds and the
      // function can serve back the uid evil.sh recorded
      const repo = path.join(await scratchDir('kumo-canary-repo-'), 'dep');
      await plant(path.join(repo, 'package.json'), '{"name":"dep","version":"1.0.0"}\n', 0o644);
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], {
          cwd: repo,
          stdio: 'ignore',
        });
      git('init', '-q');
      git('add', '.');
      git('commit', '-qm', 'dep');
      return `git+file://${repo}`;
    });
  });

  test('2b. .npmrc git=./evil.sh with a git+https:// dependency does not run evil.sh as root', async () => {
    // evil.sh never calls the real git for https: no network is used, today's deploy fails.
    await npmGitAttack('npm-git-https', () =>
      Promise.resolve('git+https://kumo-no-such-host.invalid/owner/dep.git'),
    );
  });

  // ---------------------------------------------------------------------------------------------
  // 3. TypeScript: esbuild bundling a host file into the artefact
  // ---------------------------------------------------------------------------------------------

  async function tsImportAttack(name: string, specifier: (c: Canary) => string): Promise<void> {
    const canary = await makeCanary();
    const f = new Findings();
    const o = await deployFiles({
      'kumo.yaml': `name: ${name}\n`,
      'index.ts': `import secret from ${JSON.stringify(specifier(canary))} with { type: 'text' };\nexport default () => new Response(String(secret));\n`,
    });
    f.check(
      o.status >= 400 && o.status < 500 && o.body?.error?.code === 'build_failed',
      `expected a 4xx build_failed, got ${o.status}: ${o.text.slice(0, 300)}`,
    );
    f.check(!o.text.includes(canary.secret), 'the secret is in the deploy answer (message or build log)');
    if (o.status === 200 || o.status === 201) {
      const res = await invoke(server, name);
      f.check(!(await res.text()).includes(canary.secret), 'the secret is in the invocation response');
    }
    const logs = await api(server, `/functions/${name}/logs?limit=1000`);
    if (logs.ok) f.check(!(await logs.text()).includes(canary.secret), 'the secret is in the function logs');
    const { found } = await filesContaining(canary.secret, [server.dataDir], canaryDirs());
    f.check(found.length === 0, `the secret is in kumo's files: ${found.join(', ')}`);
    await checkHealth(f);
    f.done();
  }

  test('3a. a TypeScript import of an absolute host path fails the build without leaking it', async () => {
    await tsImportAttack('ts-abs-import', (c) => c.secretFile);
  });

  test('3b. a TypeScript relative import that climbs out of the bundle fails the build without leaking it', async () => {
    await tsImportAttack('ts-rel-import', (c) => `${'../'.repeat(30)}${c.secretFile.slice(1)}`);
  });

  // ---------------------------------------------------------------------------------------------
  // 4. archives whose symlinks chain out of the extraction folder
  // ---------------------------------------------------------------------------------------------

  /** The names of `entries` that are part of the attack (chain links, the file written through it). */
  function hostileNames(entries: ArchiveEntry[]): string[] {
    return entries.filter((e) => e.kind === 'symlink' || e.path.includes('/')).map((e) => e.path);
  }

  /** Expects 400 invalid_archive naming one of `names`, an unchanged canary, health, no leftovers. */
  async function expectArchiveRefused(
    o: Outcome,
    names: string[],
    canary: Canary,
    before: Record<string, string>,
  ): Promise<void> {
    const f = new Findings();
    const message = typeof o.body?.error?.message === 'string' ? o.body.error.message : '';
    f.check(
      o.status === 400 && o.body?.error?.code === 'invalid_archive',
      `expected 400 invalid_archive, got ${o.status}: ${o.text.slice(0, 300)}`,
    );
    const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const naming = new RegExp(`(^|[^A-Za-z0-9_.-])(${escaped.join('|')})($|[^A-Za-z0-9_.-])`);
    f.check(
      naming.test(message),
      `the error message names no entry of the attack: ${JSON.stringify(message)}`,
    );
    await checkCanary(canary, before, f);
    await checkHealth(f);
    await checkNoLeftovers(f);
    f.done();
  }

  /** The chain plus a file written through it into the canary folder. */
  function chainWrite(name: string, canary: Canary): ArchiveEntry[] {
    const { entries, top } = symlinkChain(levels);
    return [
      { kind: 'file', path: 'kumo.yaml', content: `name: ${name}\n` },
      { kind: 'file', path: 'index.js', content: 'export default () => new Response("ok");\n' },
      ...entries,
      { kind: 'file', path: `${top}${canary.target}`, content: 'pwned through a symlink chain\n' },
    ];
  }

  test('4a. a tar.gz writing through a chain of inside-looking symlinks is refused, nothing written', async () => {
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const entries = chainWrite('chain-tar', canary);
    await expectArchiveRefused(await upload(tarGz(entries)), hostileNames(entries), canary, before);
  });

  test('4b. a zip writing through a chain of inside-looking symlinks is refused, nothing written', async () => {
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const entries = chainWrite('chain-zip', canary);
    await expectArchiveRefused(await upload(await zipOf(entries)), hostileNames(entries), canary, before);
  });

  test('4c. a .kumo folder shipped as a chain symlink into a host folder is refused, nothing written', async () => {
    // Today the build writes its launch record through .kumo into the canary folder.
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const { entries, top } = symlinkChain(levels);
    const all: ArchiveEntry[] = [
      { kind: 'file', path: 'kumo.yaml', content: 'name: chain-kumo\nruntime: exec\ncommand: ./run.sh\n' },
      { kind: 'file', path: 'run.sh', content: '#!/bin/sh\necho ok\n', mode: 0o755 },
      ...entries,
      { kind: 'symlink', path: '.kumo', target: `${top}${canary.dir}` },
    ];
    await expectArchiveRefused(await upload(tarGz(all)), hostileNames(all), canary, before);
  });

  // ---------------------------------------------------------------------------------------------
  // 5, 6. exec: the command names a host file
  // ---------------------------------------------------------------------------------------------

  test('5. an exec command through the symlink chain does not chmod the host file', async () => {
    const canary = await makeCanary();
    const prog = path.join(canary.dir, 'prog.sh');
    await plant(prog, '#!/bin/sh\necho host program\n', 0o600);
    const modeBefore = (await stat(prog)).mode & 0o7777;
    const before = await snapshot(canary.dir);
    const { entries, top } = symlinkChain(levels);
    const o = await upload(
      tarGz([
        {
          kind: 'file',
          path: 'kumo.yaml',
          content: `name: chain-exec\nruntime: exec\ncommand: ${top}${prog}\n`,
        },
        ...entries,
      ]),
    );
    const f = new Findings();
    refusedOrBuilt(o, 'chain-exec', f);
    const modeAfter = (await stat(prog)).mode & 0o7777;
    f.check(
      modeAfter === modeBefore,
      `the host file's mode changed from ${modeBefore.toString(8)} to ${modeAfter.toString(8)} (deploy answered ${o.status})`,
    );
    await checkCanary(canary, before, f);
    await checkHealth(f);
    await checkNoLeftovers(f);
    f.done();
  });

  test('6. an exec command naming an absolute host file outside the bundle is refused, its content copied nowhere', async () => {
    // 0700 root-owned: the sandbox user cannot read it, so today's launcher copies ("mirrors") it
    // somewhere it can.
    const canary = await makeCanary();
    const marker = randomMarker('kumo-host-program');
    const prog = path.join(canary.dir, 'secret-prog');
    await plant(prog, `#!/bin/sh\necho ${marker}\n`, 0o700);
    const before = await snapshot(canary.dir);
    const o = await deployFiles({
      'kumo.yaml': `name: host-exec\nruntime: exec\ncommand: ${prog}\n`,
      'README.txt': 'nothing here\n',
    });
    const f = new Findings();
    f.check(
      o.status >= 400 && o.status < 500 && typeof o.body?.error?.code === 'string',
      `expected a 4xx JSON error, got ${o.status}: ${o.text.slice(0, 300)}`,
    );
    f.check(!o.text.includes(marker), "the host program's content is in the deploy answer");
    if (o.status === 200 || o.status === 201) {
      const res = await invoke(server, 'host-exec');
      f.check(!(await res.text()).includes(marker), 'the host program ran for the function and answered');
    }
    const { found, scanned } = await filesContaining(marker, [server.dataDir], canaryDirs());
    f.check(scanned > 0, 'the search for copies scanned nothing');
    f.check(found.length === 0, `the host program's content was copied to: ${found.join(', ')}`);
    await checkCanary(canary, before, f);
    await checkHealth(f);
    f.done();
  });

  // ---------------------------------------------------------------------------------------------
  // 7. manifest env that would load bundle code into build tools
  // ---------------------------------------------------------------------------------------------

  // Today's build tools get none of the manifest's env (npm: PATH, HOME and npm settings of the
  // server; node --check: PATH; pip/compileall: PATH and HOME), so these may pass today; they
  // guard a sandboxed build that might pass the function's env to its tools. A file: dependency
  // makes npm (itself a node program) run during the build.

  async function envAttack(name: string, env: Record<string, string>): Promise<void> {
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const f = new Findings();
    const envYaml = Object.entries(env)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
      .join('');
    const o = await deployFiles({
      'kumo.yaml': `name: ${name}\nenv:\n${envYaml}`,
      'index.js': NODE_HANDLER,
      'evil.cjs': evilCjs(canary.target),
      'package.json': JSON.stringify({ name, version: '1.0.0', dependencies: { lib: 'file:./lib' } }),
      'lib/package.json': '{"name":"lib","version":"1.0.0","main":"index.js"}\n',
      'lib/index.js': 'module.exports = 1;\n',
    });
    const outcome = refusedOrBuilt(o, name, f);
    await checkUids(o, name, outcome, f);
    await checkCanary(canary, before, f);
    await checkHealth(f);
    f.done();
  }

  test('7a. env NODE_OPTIONS=--require ./evil.cjs runs nothing as root', async () => {
    await envAttack('env-require-rel', { NODE_OPTIONS: '--require ./evil.cjs' });
  });

  test('7b. env NODE_OPTIONS=--require /var/task/evil.cjs runs nothing as root', async () => {
    await envAttack('env-require-task', { NODE_OPTIONS: '--require /var/task/evil.cjs' });
  });

  test('7c. env PYTHONPATH=. with a sitecustomize.py runs nothing as root', async () => {
    const canary = await makeCanary();
    const before = await snapshot(canary.dir);
    const f = new Findings();
    const name = 'env-pythonpath';
    const o = await deployFiles({
      'kumo.yaml': `name: ${name}\nruntime: python\nenv:\n  PYTHONPATH: "."\n`,
      'handler.py': PYTHON_HANDLER,
      'sitecustomize.py': evilPython(canary.target),
    });
    const outcome = refusedOrBuilt(o, name, f);
    await checkUids(o, name, outcome, f);
    await checkCanary(canary, before, f);
    await checkHealth(f);
    f.done();
  });
});
