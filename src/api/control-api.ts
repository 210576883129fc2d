/** The control plane under /api/v1: deploy, list, get, delete, versions, rollback, logs. */
import type { ServerLog } from '../core/index.ts';
import { sendJson } from '../http/index.ts';
import type { InstancePool } from '../pool/index.ts';
import type { ActiveVersions, FunctionStore } from '../store/index.ts';
import { DeployGate } from './deploy-gate.ts';
import type { DeployService } from './deploy-service.ts';
import type { SourceDeployer } from './source-deploy.ts';
import { Router } from './router.ts';
import { deployRoute } from './routes/deploy.ts';
import { functionRoutes } from './routes/functions.ts';
import { registerAccessRoutes, type AccessRoutesDeps } from './routes/access.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerInvocationRoutes, type InvocationRoutesDeps } from './routes/invocations.ts';
import { logsRoute, type LogFeed } from './routes/logs.ts';
import { versionRoutes } from './routes/versions.ts';

/** What the control API needs. */
export interface ControlApiDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  deployer: DeployService;
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
  version: string;
}

/** Builds the router of the control API (paths relative to /api/v1). */
export function createControlApi(d: ControlApiDeps): Router {
  const fns = functionRoutes({ ...d, remove: (name) => d.deployer.remove(name) });
  const versions = versionRoutes(d);
  const router = new Router(d.log);
  if (d.invocations) {
    registerInvocationRoutes(router, d.invocations);
    registerDashboardRoutes(router, {
      ...d.invocations,
      store: d.store,
      versions: d.versions,
      pool: d.pool,
      ...(d.instancePeaks ? { instancePeaks: d.instancePeaks } : {}),
    });
  }
  if (d.access) registerAccessRoutes(router, d.access);
  return router
    .on(
      'POST',
      '/functions',
      deployRoute(
        d.deployer,
        d.uploadLimit,
        d.sources,
        d.deployConcurrency ? new DeployGate(d.deployConcurrency, d.log) : undefined,
      ),
    )
    .on('GET', '/status', ({ res }) =>
      sendJson(res, 200, { version: d.version, sandbox: d.sandbox, insecure: !d.sandbox.isolated }),
    )
    .on('GET', '/functions', fns.list)
    .on('GET', '/functions/:name', fns.get)
    .on('DELETE', '/functions/:name', fns.remove)
    .on('GET', '/functions/:name/versions', versions.list)
    .on('POST', '/functions/:name/rollback', versions.rollback)
    .on('GET', '/functions/:name/logs', logsRoute({ store: d.store, feed: d.logs, now: d.now }));
}
