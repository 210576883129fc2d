/**
 * What POST /functions deploys, read from the request: a gzipped tar or a zip body (told apart by
 * their first bytes), or JSON `{ "repository": URL, "ref"?: … }` for git (webhooks, `kumo deploy
 * owner/repo`). Query `luaMemory` (KB) and `luaTimeout` (ms) set the lua VM limits; `fallbackName`
 * names a function whose manifest does not (the CLI sends an archive's file name).
 */
import type { IncomingMessage } from 'node:http';
import type { DeployOverrides, ExtraFields } from '../../build/index.ts';
import { KumoError } from '../../core/index.ts';
import type { DeployResult, DeployService } from '../deploy-service.ts';
import type { SourceDeployer, SourceProgress } from '../source-deploy.ts';

/** Runs the deploy the request asks for. */
export type DeployRun = (progress: SourceProgress, signal: AbortSignal) => Promise<DeployResult>;

/** The deploy of one request; without a SourceDeployer (API-only tests) only tar uploads. */
export function deployRun(
  service: DeployService,
  sources: SourceDeployer | undefined,
  req: IncomingMessage,
  body: Buffer,
  query: URLSearchParams,
  overrides: DeployOverrides,
): DeployRun {
  if (!sources) return (progress, signal) => service.deploy(body, overrides, progress, signal);
  const fallbackName = query.get('fallbackName') ?? undefined;
  const options = { overrides, extra: extraFields(query), ...(fallbackName ? { fallbackName } : {}) };
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('json')) {
    const { repository, ref } = repositoryRequest(body);
    return (progress, signal) => sources.deployRepository(repository, ref, options, progress, signal);
  }
  return (progress, signal) => sources.deployArchive(body, options, progress, signal);
}

function repositoryRequest(body: Buffer): { repository: string; ref: string | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KumoError(
      'bad_request',
      'a JSON deploy body must be {"repository": "https://…/repo.git", "ref"?: "main"}',
    );
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof v.repository !== 'string' || v.repository === '') {
    throw new KumoError('bad_request', 'a JSON deploy body needs "repository": a git URL or owner/repo');
  }
  if (v.ref !== undefined && typeof v.ref !== 'string')
    throw new KumoError('bad_request', '"ref" must be a branch, tag or commit');
  return { repository: v.repository, ref: v.ref };
}

function extraFields(query: URLSearchParams): ExtraFields {
  const lua: Record<string, number | string> = {};
  const memory = query.get('luaMemory');
  if (memory !== null) {
    const kb = Number(memory);
    if (!Number.isInteger(kb))
      throw new KumoError(
        'invalid_manifest',
        `--lua-memory must be a whole number of KB (got ${JSON.stringify(memory)})`,
      );
    lua.maxmem = kb;
  }
  const timeout = query.get('luaTimeout');
  if (timeout !== null) lua.timeout = /^\d+$/.test(timeout) ? Number(timeout) : timeout;
  return Object.keys(lua).length ? { lua } : {};
}
