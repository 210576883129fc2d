/** GET /functions, GET /functions/:name, DELETE /functions/:name. */
import { KumoError, type FunctionRecord, type FunctionSpec } from '../../core/index.ts';
import { sendJson } from '../../http/index.ts';
import type { InstancePool, PoolStats } from '../../pool/index.ts';
import type { ActiveVersions, FunctionStore } from '../../store/index.ts';
import type { Route, RouteContext } from '../../http/index.ts';

/** One function as the API shows it. */
export interface FunctionInfo {
  name: string;
  activeVersion: number;
  versions: number;
  runtime: string;
  url: string;
  path: string;
  createdAt: number;
  updatedAt: number;
  instances: Omit<PoolStats, 'waiting'> & { waiting: number };
  spec: FunctionSpec;
  /** Its aliases: name → version, and the canary when there is one. */
  aliases: { name: string; version: number; canary: { version: number; weight: number } | null }[];
}

/** What the function routes need. */
export interface FunctionRoutesDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  /** Deletes a function with its versions and code (DeployService.remove). */
  remove: (name: string) => Promise<void>;
  urls: (name: string) => { url: string; path: string };
  /** The isolation every instance runs in (shown so an insecure server cannot go unnoticed). */
  sandbox: { name: string; isolated: boolean };
}

/** The function routes' handlers. */
function functionHandlers(d: FunctionRoutesDeps) {
  const info = async (fn: FunctionRecord): Promise<FunctionInfo> => {
    const versions = await d.store.listVersions(fn.name);
    const active = versions.find((v) => v.version === fn.activeVersion);
    if (!active) throw new KumoError('internal_error', `function ${fn.name} has no active version`);
    return {
      name: fn.name,
      activeVersion: fn.activeVersion,
      versions: versions.length,
      runtime: active.spec.runtime,
      ...d.urls(fn.name),
      createdAt: fn.createdAt,
      updatedAt: fn.updatedAt,
      instances: d.pool.stats(fn.name),
      spec: active.spec,
      aliases: d.versions
        .aliases(fn.name)
        .map((a) => ({ name: a.name, version: a.version, canary: a.canary })),
    };
  };
  return {
    list: async ({ res }: RouteContext) => {
      const functions = [];
      for (const fn of await d.store.listFunctions()) functions.push(await info(fn));
      sendJson(res, 200, { functions, sandbox: d.sandbox });
    },
    get: async ({ res, params }: RouteContext) =>
      sendJson(res, 200, await info(await mustGet(d.store, params.name ?? ''))),
    remove: async ({ res, params }: RouteContext) => {
      const name = (await mustGet(d.store, params.name ?? '')).name;
      await d.remove(name);
      sendJson(res, 200, { deleted: name });
    },
  };
}

/** GET /functions, GET|DELETE /functions/:name. */
export function functionRoutes(d: FunctionRoutesDeps): Route[] {
  const h = functionHandlers(d);
  const tag = 'functions';
  return [
    {
      method: 'GET',
      path: '/functions',
      scope: 'read',
      tag,
      summary: 'List the deployed functions',
      handler: h.list,
    },
    { method: 'GET', path: '/functions/:name', scope: 'read', tag, summary: 'One function', handler: h.get },
    {
      method: 'DELETE',
      path: '/functions/:name',
      scope: 'deploy',
      tag,
      summary: 'Delete a function with its versions, logs, schedules and data',
      handler: h.remove,
    },
  ];
}

/** The function `name`, or function_not_found. */
export async function mustGet(store: FunctionStore, name: string): Promise<FunctionRecord> {
  const fn = await store.getFunction(name);
  if (!fn)
    throw new KumoError('function_not_found', `no function named '${name}' is deployed (see kumo list)`);
  return fn;
}
