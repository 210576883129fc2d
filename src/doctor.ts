/**
 * `kumo doctor`: what isolation this host provides, each missing piece with the command that fixes
 * it, and (when a server answers at KUMO_URL) whether that server runs sandboxed. It runs here,
 * not through the API, because it must work when the server refuses to start.
 */
import { parseArgs } from 'node:util';
import { findKey } from './cli/index.ts';
import { parseIdRange, probeCapabilities, probeHost, sandboxProblems } from './drivers/index.ts';

/** Usage of `kumo doctor`. */
export const DOCTOR_USAGE = `Usage: kumo doctor [--json] [--url URL]

Checks what isolation this host provides for functions (bubblewrap, namespaces, seccomp,
cgroups) and prints the command that fixes each missing piece. When a kumo server answers at
--url / KUMO_URL, also shows whether it runs functions sandboxed.
`;

/** Runs `kumo doctor`; exit code 0 when sandboxed functions can run here, 1 when not. */
export async function doctor(
  argv: string[],
  out: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out.write(DOCTOR_USAGE);
    return 0;
  }
  // The same id range as `kumo up` (KUMO_SANDBOX_IDS), so the overlap check is about the real one.
  const probe = await probeHost(env.KUMO_SANDBOX_IDS ? { idRange: parseIdRange(env.KUMO_SANDBOX_IDS) } : {});
  const capabilities = probeCapabilities(probe);
  const problems = sandboxProblems(probe);
  const server = await serverStatus(values.url ?? env.KUMO_URL ?? 'http://127.0.0.1:8080', env);
  if (values.json) {
    out.write(`${JSON.stringify({ ok: problems.length === 0, capabilities, problems, server }, null, 2)}\n`);
    return problems.length ? 1 : 0;
  }
  for (const c of capabilities) {
    out.write(
      `${c.available ? 'ok     ' : 'MISSING'}  ${c.feature}: ${c.detail}${!c.available && c.fix ? `\n         fix: ${c.fix}` : ''}\n`,
    );
  }
  out.write(
    problems.length
      ? `\nkumo cannot sandbox functions on this host; fix the lines marked MISSING (or run with --insecure-no-sandbox, not recommended).\n`
      : '\nthis host can run sandboxed functions.\n',
  );
  if (server) {
    out.write(
      server.insecure
        ? `the server at ${server.url} runs functions WITHOUT a sandbox (--insecure-no-sandbox)\n`
        : `the server at ${server.url} runs functions in the ${server.sandbox} sandbox\n`,
    );
    const cells = server.stemCells;
    if (cells)
      out.write(
        cells.enabled
          ? `stem cells: on, at most ${cells.max} (${cells.ready} ready, ${cells.starting} starting, ${cells.short ?? 0} waiting to start; cold starts served by a cell: ${cells.hits}, by the ordinary path: ${cells.misses})\n`
          : 'stem cells: off (--stem-cells 0)\n',
      );
    if (server.store)
      out.write(
        server.store.healthy
          ? `its store (${server.store.kind}${server.node ? `, node ${server.node}` : ''}) answers\n`
          : `its store (${server.store.kind}) is UNREACHABLE since ${new Date(server.store.since).toISOString()}: ${server.store.error ?? 'unknown error'}\n         async requests are refused with 503 store_unavailable until it is back\n`,
      );
  }
  return problems.length ? 1 : 0;
}

/** The sandbox mode of the server at `url`, or undefined when none answers. */
async function serverStatus(
  url: string,
  env: NodeJS.ProcessEnv,
): Promise<
  | {
      url: string;
      sandbox: string;
      insecure: boolean;
      stemCells?: Record<string, number | boolean>;
      node?: string;
      store?: { kind: string; healthy: boolean; since: number; error: string | null };
    }
  | undefined
> {
  try {
    // /status needs a read key: the one the CLI would send (KUMO_API_KEY, kumo login, the local key file).
    const key = findKey(new URL(url), env, process.cwd())?.key;
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const res = await fetch(new URL('/api/v1/status', url), { headers, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as {
      sandbox?: { name?: string };
      insecure?: boolean;
      stemCells?: Record<string, number | boolean>;
      node?: string;
      store?: { kind?: string; healthy?: boolean; since?: number; error?: string | null };
    };
    return {
      url,
      sandbox: String(body.sandbox?.name ?? 'unknown'),
      insecure: body.insecure === true,
      ...(body.stemCells ? { stemCells: body.stemCells } : {}),
      ...(typeof body.node === 'string' ? { node: body.node } : {}),
      ...(body.store
        ? {
            store: {
              kind: String(body.store.kind ?? 'unknown'),
              healthy: body.store.healthy !== false,
              since: Number(body.store.since ?? 0),
              error: body.store.error ?? null,
            },
          }
        : {}),
    };
  } catch {
    return undefined;
  }
}
