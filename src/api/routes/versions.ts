/** GET /functions/:name/versions and POST /functions/:name/rollback. */
import { KumoError } from '../../core/index.ts';
import { readBody, sendJson } from '../../http/index.ts';
import type { InstancePool } from '../../pool/index.ts';
import type { ActiveVersions, FunctionStore, VersionSource } from '../../store/index.ts';
import type { RouteContext } from '../router.ts';
import { mustGet } from './functions.ts';

/** What the version routes need. */
export interface VersionRoutesDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  now: () => number;
}

/** The version routes. */
export function versionRoutes(d: VersionRoutesDeps) {
  return {
    list: async ({ res, params }: RouteContext) => {
      const fn = await mustGet(d.store, params.name ?? '');
      const versions = [];
      for (const v of await d.store.listVersions(fn.name)) {
        versions.push({
          version: v.version,
          hash: v.hash,
          createdAt: v.createdAt,
          active: v.version === fn.activeVersion,
          memory: v.spec.memory,
          timeout: v.spec.timeout,
          ...sourceField(await d.store.getSource(fn.name, v.version)),
        });
      }
      sendJson(res, 200, { function: fn.name, activeVersion: fn.activeVersion, versions });
    },
    rollback: async ({ req, res, params }: RouteContext) => {
      const fn = await mustGet(d.store, params.name ?? '');
      const to = parseTo(await readBody(req, 64 * 1024));
      const all = await d.store.listVersions(fn.name);
      let target: number;
      if (to === undefined) {
        const earlier = all.filter((v) => v.version < fn.activeVersion).pop();
        if (!earlier)
          throw new KumoError(
            'conflict',
            `'${fn.name}' has no version before ${fn.activeVersion} to roll back to`,
          );
        target = earlier.version;
      } else {
        if (!all.some((v) => v.version === to)) {
          throw new KumoError(
            'version_not_found',
            `'${fn.name}' has no version ${to} (versions: ${all.map((v) => v.version).join(', ')})`,
          );
        }
        if (to === fn.activeVersion)
          throw new KumoError('conflict', `version ${to} of '${fn.name}' is already active`);
        target = to;
      }
      const v = await d.store.getVersion(fn.name, target);
      if (!v) throw new KumoError('version_not_found', `'${fn.name}' has no version ${target}`);
      await d.store.setActiveVersion(fn.name, target, d.now());
      await d.versions.refresh(fn.name);
      d.pool.activate({ functionName: fn.name, version: target, spec: v.spec, buildDir: v.buildDir });
      sendJson(res, 200, { function: fn.name, from: fn.activeVersion, to: target });
    },
  };
}

/** `{ "to": N }` or an empty body. */
function parseTo(body: Buffer): number | undefined {
  if (!body.length) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KumoError('bad_request', 'rollback body must be JSON like {"to": 1}');
  }
  if (typeof data !== 'object' || data === null)
    throw new KumoError('bad_request', 'rollback body must be JSON like {"to": 1}');
  const to = (data as { to?: unknown }).to;
  if (to === undefined || to === null) return undefined;
  if (typeof to !== 'number' || !Number.isInteger(to) || to < 1) {
    throw new KumoError('bad_request', `"to" must be a version number (got ${JSON.stringify(to)})`);
  }
  return to;
}

/** `source: { kind, repository?, ref?, commit? }` of a version, when recorded. */
function sourceField(s: VersionSource | undefined): { source?: Record<string, string> } {
  if (!s) return {};
  const source: Record<string, string> = { kind: s.kind };
  if (s.repository) source.repository = s.repository;
  if (s.ref) source.ref = s.ref;
  if (s.commit) source.commit = s.commit;
  return { source };
}
