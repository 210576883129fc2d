/** GET /functions/:name/versions and POST /functions/:name/rollback. */
import { KumoError } from '../../core/index.ts';
import { z } from 'zod';
import { jsonBody, sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { InstancePool } from '../../pool/index.ts';
import type { ActiveVersions, FunctionStore, VersionSource } from '../../store/index.ts';
import { mustGet } from './functions.ts';

/** What the version routes need. */
export interface VersionRoutesDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  now: () => number;
}

const rollbackBody = z.object({
  to: z.int({ error: 'must be a version number' }).min(1, { error: 'must be a version number' }).nullish(),
});

/** GET /functions/:name/versions and POST /functions/:name/rollback. */
export function versionRoutes(d: VersionRoutesDeps): Route[] {
  const h = versionHandlers(d);
  return [
    {
      method: 'GET',
      path: '/functions/:name/versions',
      scope: 'read',
      tag: 'functions',
      summary: "A function's versions, oldest first",
      handler: h.list,
    },
    {
      method: 'POST',
      path: '/functions/:name/rollback',
      scope: 'deploy',
      tag: 'functions',
      summary: 'Make an earlier version active (the one before the active one unless `to` says)',
      ...jsonBody(
        { schema: rollbackBody, limit: 64 * 1024, what: 'rollback', example: '{"to": 1}' },
        (ctx, body) => h.rollback(ctx, body.to ?? undefined),
      ),
    },
  ];
}

/** The version routes' handlers. */
function versionHandlers(d: VersionRoutesDeps) {
  return {
    list: async ({ res, params }: RouteContext) => {
      const fn = await mustGet(d.store, params.name ?? '');
      const versions = [];
      const aliases = d.versions.aliases(fn.name);
      for (const v of await d.store.listVersions(fn.name)) {
        versions.push({
          version: v.version,
          hash: v.hash,
          createdAt: v.createdAt,
          active: v.version === fn.activeVersion,
          memory: v.spec.memory,
          timeout: v.spec.timeout,
          // The aliases that send calls to it (a canary's with its weight).
          aliases: aliases.flatMap((a) =>
            a.version === v.version
              ? [{ name: a.name, weight: 1 - (a.canary?.weight ?? 0) }]
              : a.canary?.version === v.version
                ? [{ name: a.name, weight: a.canary.weight }]
                : [],
          ),
          ...sourceField(await d.store.getSource(fn.name, v.version)),
        });
      }
      sendJson(res, 200, { function: fn.name, activeVersion: fn.activeVersion, versions, aliases });
    },
    rollback: async ({ res, params }: RouteContext, to: number | undefined) => {
      const fn = await mustGet(d.store, params.name ?? '');
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
      // The active entry, not the stored row: it names this node's copy of the build.
      const active = d.versions.get(fn.name);
      if (active && active.unavailable === undefined) d.pool.activate(active);
      sendJson(res, 200, { function: fn.name, from: fn.activeVersion, to: target });
    },
  };
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
