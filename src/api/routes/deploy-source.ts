/**
 * What POST /functions deploys, read from the request: a gzipped tar or a zip body (told apart by
 * their first bytes), or JSON `{ "repository": URL, "ref"?: … }` for git (webhooks, `kumo deploy
 * owner/repo`). Query `luaMemory` (KB) and `luaTimeout` (ms) set the lua VM limits; `fallbackName`
 * names a function whose manifest does not (the CLI sends an archive's file name); `template`
 * names a SAM template of the source to deploy (`kumo deploy template.yaml`).
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { DeployOverrides, ExtraFields } from '../../build/index.ts';
import { KumoError } from '../../core/index.ts';
import { decodeJson } from '../../http/index.ts';
import type { DeployResult, DeployService } from '../deploy-service.ts';
import type { SourceDeployer, SourceProgress } from '../source-deploy.ts';

/** A JSON deploy body: a git repository to clone at a ref. */
export const repositoryBody = {
  schema: z.object({
    repository: z
      .string({ error: 'must be a git URL or owner/repo' })
      .min(1, { error: 'must be a git URL or owner/repo' })
      .describe('https://…, ssh://…, git@host:owner/repo, or owner/repo on the server’s --git-base'),
    ref: z.string({ error: 'must be a branch, tag or commit' }).optional().describe('default: HEAD'),
  }),
  what: 'deploy',
  example: '{"repository": "https://…/repo.git", "ref"?: "main"}',
};

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
  const template = query.get('template') ?? undefined;
  const options = {
    overrides,
    extra: extraFields(query),
    ...(fallbackName ? { fallbackName } : {}),
    ...(template ? { template } : {}),
  };
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('json')) {
    const { repository, ref } = decodeJson(repositoryBody, body);
    return (progress, signal) => sources.deployRepository(repository, ref, options, progress, signal);
  }
  return (progress, signal) => sources.deployArchive(body, options, progress, signal);
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
