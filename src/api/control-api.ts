/**
 * The control plane under /api/v1: the declarations of every route in `routes/`, put under the
 * prefix. The whole table (these and the data plane's) is assembled in `server-routes.ts`.
 */
import type { ApiRouteRecord, ServerLog } from '../core/index.ts';
import { sendJson, type Route } from '../http/index.ts';
import type { InstancePool } from '../pool/index.ts';
import type { ActiveVersions, FunctionStore } from '../store/index.ts';
import type { AliasService } from './alias-service.ts';
import { DeployGate } from './deploy-gate.ts';
import type { DeployService } from './deploy-service.ts';
import type { SourceDeployer } from './source-deploy.ts';
import { deployRoute } from './routes/deploy.ts';
import { functionRoutes } from './routes/functions.ts';
import { accessRoutes, type AccessRoutesDeps } from './routes/access.ts';
import { aliasRoutes } from './routes/aliases.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { invocationRoutes, type InvocationRoutesDeps } from './routes/invocations.ts';
import { logsRoute, type LogFeed } from './routes/logs.ts';
import { openApiRoute } from './routes/openapi.ts';
import { versionRoutes } from './routes/versions.ts';
import { apiRouteListRoute } from './routes/api-routes.ts';

/** Where the control plane lives. */
export const API_PREFIX = '/api/v1';

/** What the control API needs. */
export interface ControlApiDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  deployer: DeployService;
  /** Aliases (kumo alias, the Lambda API's aliases). */
  aliases: AliasService;
  /** Zip, git and project deploys (absent in API-only tests: tar uploads only). */
  sources?: SourceDeployer;
  logs: LogFeed;
  log: ServerLog;
  dataDir: string;
  uploadLimit: number;
  /** Deploys at once (503 deploy_busy above); unbounded when absent. */
  deployConcurrency?: number;
  urls: (name: string) => { url: string; path: string };
  now: () => number;
  /** History, async results, redrive, stats and schedules (absent in API-only tests). */
  invocations?: InvocationRoutesDeps;
  /** Keys, whoami, scopes, secrets and the audit log (absent in API-only tests). */
  access?: AccessRoutesDeps;
  /** Peak instance count of a function per time bucket, for the stats buckets. */
  instancePeaks?: (fn: string, start: number, step: number, count: number) => number[];
  /** The isolation every instance runs in, for /status and list. */
  sandbox: { name: string; isolated: boolean };
  /** Counts of the stem cells kept for cold starts, for /status (absent in API-only tests). */
  stemCells?: () => Record<string, number | boolean>;
  version: string;
  /** What /status adds about this node (its id, the store's health), read at request time. */
  node?: () => Record<string, unknown>;
  /** Every declared route of the server (for GET /scopes and GET /openapi.json). */
  routes: () => readonly Route[];
  /** Every API route (METHOD /path → function), for GET /routes; absent: none listed. */
  apiRoutes?: () => ApiRouteRecord[];
}

/** The declarations of the control API, with their full paths (below /api/v1). */
export function controlRoutes(d: ControlApiDeps): Route[] {
  const routes: Route[] = [
    deployRoute(
      d.deployer,
      d.uploadLimit,
      d.sources,
      d.deployConcurrency ? new DeployGate(d.deployConcurrency, d.log) : undefined,
    ),
    ...functionRoutes({ ...d, remove: (name) => d.deployer.remove(name) }),
    ...versionRoutes(d),
    ...aliasRoutes(d.aliases),
    logsRoute({ store: d.store, feed: d.logs, now: d.now }),
    {
      method: 'GET',
      path: '/status',
      scope: 'read',
      tag: 'server',
      summary:
        "The server's version, the isolation functions run in, its stem cells, this node's id and the store's health",
      handler: ({ res }) =>
        sendJson(res, 200, {
          version: d.version,
          sandbox: d.sandbox,
          insecure: !d.sandbox.isolated,
          ...d.node?.(),
          ...(d.stemCells ? { stemCells: d.stemCells() } : {}),
        }),
    },
    openApiRoute({ routes: d.routes, version: d.version }),
    apiRouteListRoute({ list: d.apiRoutes ?? (() => []), urls: d.urls }),
  ];
  if (d.invocations) {
    routes.push(...invocationRoutes(d.invocations));
    routes.push(
      ...dashboardRoutes({
        ...d.invocations,
        store: d.store,
        versions: d.versions,
        pool: d.pool,
        ...(d.instancePeaks ? { instancePeaks: d.instancePeaks } : {}),
      }),
    );
  }
  if (d.access) routes.push(...accessRoutes(d.access, d.routes));
  return routes.map((r) => ({ ...r, path: `${API_PREFIX}${r.path}` }));
}
