/** `kumo deploy PATH`: package a folder, upload it, follow the build to a live URL. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FUNCTION_NAME } from '../../core/index.ts';
import { COMMON_HELP, parseCommand, positionals } from '../args.ts';
import { packFolder } from '../bundle.ts';
import type { ApiClient, Query } from '../client.ts';
import { readJson, responseError, validate } from '../client.ts';
import type { Command } from '../command.ts';
import { clientFor, printText } from '../command.ts';
import { formatSize } from '../format.ts';
import { isErrno } from '../ignore-rules.ts';
import { CliError, UsageError, write } from '../io.ts';
import { readNdjson } from '../ndjson.ts';
import type { DeployResult } from '../responses.ts';
import { deployEventSchema, deployResultSchema } from '../responses.ts';
import { DeployProgress } from './deploy-progress.ts';
import {
  classifyTarget,
  printIgnored,
  printOtherFunctions,
  refWithoutRepository,
  targetBody,
} from './deploy-source.ts';

const SYNOPSIS =
  'deploy PATH|ARCHIVE|FILE|REPO [--ref R] [--name N] [--handler H] [--memory MB] [--timeout 30s] [--cpu N] [--max-processes N] [--tmp-size MB] [--env KEY=VALUE]...';

const USAGE = `Usage: kumo ${SYNOPSIS}

Package the folder PATH and deploy it as a new version of a function.
Files matched by .gitignore or .kumoignore (at any depth) are left out, and so are
node_modules/ and .git/. The flags override kumo.yaml.

PATH may also be an archive (fn.zip, fn.tar.gz) uploaded as is, one source file
(hello.lua, lambda.py) deployed alone, or a git repository the server clones:
https://host/owner/repo.git, git@host:owner/repo, or owner/repo (on the server's --git-base).
A folder or repository may hold kumo.yaml, a run.json, an .eserveless.yaml project
(several functions, each deployed under its own name) or a SAM template.yaml. FILE may be
a SAM template (kumo deploy template.yaml): its folder is uploaded and every
AWS::Serverless::Function is deployed; what kumo ignores is listed.

Options:
  --name N          function name (default: kumo.yaml's name, else the folder name)
  --handler H       handler file, e.g. index.ts
  --memory MB       memory limit in MB
  --timeout 30s     timeout per invocation ("30s", "2m" or seconds)
  --cpu N           CPU share in cores, e.g. 0.5 (default 1)
  --max-processes N processes and threads per instance (default 64)
  --tmp-size MB     size of the private /tmp (default 64)
  --env KEY=VALUE   environment variable for the function (repeatable)
  --ref R           git branch, tag or commit to deploy (default: the repository's HEAD)
  --lua-memory KB   lua: memory limit of the Lua VM, in KB
  --lua-timeout MS  lua: time limit of one run, in ms
  -v, --verbose     show the build log as it runs

${COMMON_HELP}`;

const OPTIONS = {
  name: { type: 'string' },
  handler: { type: 'string' },
  memory: { type: 'string' },
  timeout: { type: 'string' },
  cpu: { type: 'string' },
  'max-processes': { type: 'string' },
  'tmp-size': { type: 'string' },
  env: { type: 'string', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  ref: { type: 'string' },
  'lua-memory': { type: 'string' },
  'lua-timeout': { type: 'string' },
} as const;

const ENV_PAIR = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** `kumo deploy`. */
export const deployCommand: Command = {
  name: 'deploy',
  synopsis: SYNOPSIS,
  summary: 'package a folder and deploy it as a new version',
  usage: USAGE,
  async run(args, io) {
    const parsed = parseCommand(args, OPTIONS, USAGE);
    const { values } = parsed;
    if (values.help) return printText(io, USAGE);
    const [folderArg = ''] = positionals(parsed.positionals, ['PATH'], USAGE);
    for (const pair of values.env ?? []) {
      if (!ENV_PAIR.test(pair)) {
        throw new UsageError(
          `--env takes KEY=VALUE with KEY a variable name (got ${JSON.stringify(pair)})`,
          USAGE,
        );
      }
    }
    const client = clientFor(values, io);
    const progress = new DeployProgress(io, { json: values.json === true, verbose: values.verbose === true });
    const lua = { luaMemory: values['lua-memory'], luaTimeout: values['lua-timeout'] };
    const target = await classifyTarget(folderArg, io.cwd);
    if (target.kind === 'template') {
      if (values.ref !== undefined) throw refWithoutRepository();
      // The template's folder is the source; the server reads the template and deploys each function.
      const bundle = await packFolder(path.dirname(target.path), {
        onWarning: (message) => void write(io.stderr, `kumo: warning: ${message}\n`),
      });
      await progress.packaged(path.basename(target.path), bundle.files, formatSize(bundle.data.length));
      const query = { ...deployQuery(values), template: path.basename(target.path), ...lua };
      const result = await upload(client, bundle.data, query, progress);
      await printOtherFunctions(io, result, values.json === true);
      await printIgnored(io, result, values.json === true);
      return 0;
    }
    if (target.kind !== 'folder') {
      if (values.ref !== undefined && target.kind !== 'git') throw refWithoutRepository();
      const sent = await targetBody(
        target,
        (message) => void write(io.stderr, `kumo: warning: ${message}\n`),
      );
      if (target.kind === 'git') {
        if (values.json !== true) await write(io.stdout, `[1/3] Cloning ${sent.label} on the server...\n`);
      } else {
        await progress.packaged(
          values.name ?? sent.fallbackName ?? sent.label,
          1,
          formatSize(sent.body.length),
        );
      }
      const sourceQuery = {
        ...deployQuery(values),
        name: values.name,
        fallbackName: sent.fallbackName,
        ...lua,
      };
      const body =
        target.kind === 'git'
          ? Buffer.from(JSON.stringify({ repository: target.repository, ref: values.ref }))
          : sent.body;
      const result = await upload(client, body, sourceQuery, progress, sent.type);
      await printOtherFunctions(io, result, values.json === true);
      return 0;
    }
    if (values.ref !== undefined) throw refWithoutRepository();
    const folder = target.path;
    // Packaging first, so that a missing folder is reported as such rather than as a bad folder name.
    const bundle = await packFolder(folder, {
      onWarning: (message) => void write(io.stderr, `kumo: warning: ${message}\n`),
    });
    const name = await functionName(folder, values.name);
    await progress.packaged(name, bundle.files, formatSize(bundle.data.length));

    const query = { name, ...deployQuery(values), ...lua };
    const result = await upload(client, bundle.data, query, progress);
    await printOtherFunctions(io, result, values.json === true);
    return 0;
  },
};

/** The flags every kind of deploy sends. */
function deployQuery(values: {
  handler?: string | undefined;
  memory?: string | undefined;
  timeout?: string | undefined;
  cpu?: string | undefined;
  'max-processes'?: string | undefined;
  'tmp-size'?: string | undefined;
  env?: string[] | undefined;
}): Query {
  return {
    handler: values.handler,
    memory: values.memory,
    timeout: values.timeout,
    cpu: values.cpu,
    maxProcesses: values['max-processes'],
    tmpSize: values['tmp-size'],
    env: values.env,
  };
}

async function upload(
  client: ApiClient,
  data: Buffer,
  query: Query,
  progress: DeployProgress,
  contentType = 'application/gzip',
): Promise<DeployResult> {
  const response = await sendWhenFree(() =>
    client.send(client.url('/api/v1/functions', query), {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/x-ndjson' },
      body: data,
    }),
  );
  if (!response.ok) throw await responseError(response);
  if (!(response.headers.get('content-type') ?? '').includes('ndjson')) {
    // A server that ignores Accept answers with the DeployResult itself.
    const result = validate(
      deployResultSchema,
      await readJson(response, 'POST /api/v1/functions'),
      'POST /api/v1/functions',
    );
    await progress.finish(result);
    return result;
  }
  for await (const value of readNdjson(response.body)) {
    if (!isKnownEvent(value)) continue;
    const result = await progress.event(validate(deployEventSchema, value, 'POST /api/v1/functions'));
    if (result) return result;
  }
  return progress.truncated();
}

/** How long a deploy waits in all for the server's deploy slots (it answers 503 deploy_busy while they are taken). */
const BUSY_WAIT_MS = 5 * 60_000;

/** Sends again, after the server's Retry-After, while it answers deploy_busy (at most BUSY_WAIT_MS). */
async function sendWhenFree(send: () => Promise<Response>): Promise<Response> {
  const until = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const response = await send();
    if (response.status !== 503 || Date.now() > until) return response;
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
    if (body?.error?.code !== 'deploy_busy') return response;
    await response.body?.cancel();
    const seconds = Number(response.headers.get('retry-after'));
    const wait = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) * 1000 : 5000;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

const KNOWN_EVENTS = new Set(['build', 'log', 'start', 'done', 'error']);

/** Events a newer server may add are skipped rather than fatal. */
function isKnownEvent(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && 'event' in value && KNOWN_EVENTS.has(String(value.event))
  );
}

/** The function's name: --name, else kumo.yaml's `name`, else the folder's name. */
export async function functionName(folder: string, flag: string | undefined): Promise<string> {
  const [name, source] =
    flag !== undefined
      ? [flag, '--name']
      : ((await manifestName(folder)) ?? [path.basename(folder), 'the folder name']);
  if (!FUNCTION_NAME.test(name)) {
    throw new CliError(
      `function name ${JSON.stringify(name)} (from ${source}) is not a DNS label: use 1-63 of a-z, 0-9 and "-"` +
        (source === '--name' ? '' : ', or pass --name'),
      { code: 'invalid_name' },
    );
  }
  return name;
}

async function manifestName(folder: string): Promise<[string, string] | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(folder, 'kumo.yaml'), 'utf8');
  } catch (err) {
    if (isErrno(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
  let manifest: unknown;
  try {
    manifest = parseYaml(text);
  } catch (err) {
    throw new CliError(`kumo.yaml: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, {
      code: 'invalid_manifest',
    });
  }
  if (typeof manifest !== 'object' || manifest === null || !('name' in manifest)) return undefined;
  return typeof manifest.name === 'string' ? [manifest.name, 'kumo.yaml'] : undefined;
}
