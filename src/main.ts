/**
 * The `kumo` binary: `kumo up` starts the server in this process; every other command is the CLI,
 * an HTTP client of the server.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli/index.ts';
import { KumoError } from './core/index.ts';

/** The folder holding the example functions (deployed by `kumo up --deploy-examples`). */
const EXAMPLES_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
/** Left for the README walkthrough to deploy by hand. */
const WALKTHROUGH_EXAMPLE = 'greet';

/** Runs `kumo up`; resolves when the server has stopped. */
async function up(argv: string[]): Promise<number> {
  // The server's modules are loaded only by `kumo up`: every other command is a small HTTP client,
  // and loading the whole server made each CLI call half a second slower.
  const [{ parseServerConfig, startServer, UP_USAGE }, { createServerLog }] = await Promise.all([
    import('./server/index.ts'),
    import('./telemetry/index.ts'),
  ]);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(UP_USAGE);
    return 0;
  }
  const config = parseServerConfig(argv, process.env, process.cwd());
  const log = createServerLog({ level: process.env.KUMO_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  // A late failure of some background write (the store went away) is logged, never fatal: the
  // server keeps serving what it can from memory and reconnects when the store is back.
  process.on('unhandledRejection', (err) =>
    log.error('unexpected failure in the background', { error: String(err) }),
  );
  const server = await startServer(config, log);
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`received ${signal}: stopping`);
      void server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (config.deployExamples) await deployExamples(server.url, config.dataDir);
  await stopped;
  return 0;
}

/**
 * Deploys every example folder but the walkthrough's own, through the CLI like a user would; the
 * CLI finds the admin key in the data directory (KUMO_DATA), as it does for a user on this machine.
 */
async function deployExamples(url: string, dataDir: string): Promise<void> {
  const names = (await readdir(EXAMPLES_DIR, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && d.name !== WALKTHROUGH_EXAMPLE)
    .map((d) => d.name)
    .sort();
  for (const name of names) {
    // Each deploy's progress is printed whole when it ends: the server logs to the same terminal,
    // and its lines would otherwise land inside an open "[3/3] Starting..." line.
    const out = new Collected();
    const err = new Collected();
    await runCli(['deploy', path.join(EXAMPLES_DIR, name)], {
      stdout: out,
      stderr: err,
      env: { ...process.env, KUMO_URL: url, KUMO_DATA: dataDir },
      cwd: process.cwd(),
    });
    process.stdout.write(out.text());
    process.stderr.write(err.text());
  }
  process.stdout.write(
    `\nkumo is up at ${url} with ${names.length} example functions. Try:\n  npx kumo deploy ./examples/greet --name greet\n` +
      `The web console is at ${url}/ui (sign in with the key in ${path.join(dataDir, 'admin.key')}).\n\n`,
  );
}

/** A stream that keeps what is written, to be printed in one piece. */
class Collected extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Entry point of bin/kumo.js. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === 'up') return await up(argv.slice(1));
    if (argv[0] === 'doctor')
      return await (await import('./doctor.ts')).doctor(argv.slice(1), process.stdout, process.env);
    return await runCli(argv, {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      cwd: process.cwd(),
    });
  } catch (err) {
    const message = err instanceof KumoError || err instanceof TypeError ? err.message : String(err);
    process.stderr.write(`kumo: ${message}\n`);
    return err instanceof TypeError ? 2 : 1;
  }
}
