/**
 * The composition of deploy sources, split out of server.ts like server-async.ts: the
 * SourceDeployer (zip, git, projects) that the deploy route uses, and the watched deploy folder
 * (`kumo up --watch DIR`), which deploys through the same path and deletes as the API does.
 */
import { mkdir } from 'node:fs/promises';
import { SourceDeployer, type DeployService } from '../api/index.ts';
import { DeployWatcher } from '../build/index.ts';
import { KumoError, type ServerLog } from '../core/index.ts';
import type { InstancePool } from '../pool/index.ts';
import type { SourcesConfig } from './config/sources.ts';
import type { ActiveVersions, AliasStore, ApiRouteStore, FunctionStore } from '../store/index.ts';
import type { ApiRouteTable } from '../gateway/index.ts';

/** What the source parts need. */
export interface SourcePartsDeps {
  config: SourcesConfig;
  store: FunctionStore;
  aliases: AliasStore;
  apiRouteStore: ApiRouteStore;
  apiRoutes: ApiRouteTable;
  /** Tells the other nodes of a shared store that `fn` changed (its API routes, here). */
  announce?: (fn: string) => void;
  versions: ActiveVersions;
  pool: InstancePool;
  deployer: DeployService;
  dataDir: string;
  log: ServerLog;
  urls: (name: string) => { url: string; path: string };
}

/** The source parts of a server. */
export interface SourceParts {
  deployer: SourceDeployer;
  /** Starts the watched folder, if configured (after the server listens). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the source parts. */
export function createSourceParts(d: SourcePartsDeps): SourceParts {
  const deployer = new SourceDeployer({
    deployer: d.deployer,
    store: d.store,
    dataDir: d.dataDir,
    git: d.config.git,
    log: d.log,
    urls: d.urls,
    publishAlias: async (fn, name, version) => {
      const now = Date.now();
      const ok = await d.aliases.putAlias({
        function: fn,
        name,
        version,
        canary: null,
        description: 'AutoPublishAlias (SAM template)',
        createdAt: now,
        updatedAt: now,
      });
      if (!ok)
        throw new KumoError(
          'version_not_found',
          `could not point alias ${name} of ${fn} at version ${version}: it is gone`,
        );
      // Aliases are routing state in ActiveVersions: the next call through NAME@ALIAS sees this one.
      await d.versions.refresh(fn);
    },
    apiRoutes: {
      list: () => d.apiRouteStore.listApiRoutes(),
      set: async (fn, routes) => {
        const held = await d.apiRouteStore.setApiRoutes(fn, routes, Date.now());
        // Read again either way: a concurrent change elsewhere is picked up too.
        await d.apiRoutes.refresh();
        d.announce?.(fn);
        if (held)
          throw new KumoError(
            'route_conflict',
            `route ${held.method} ${held.path} is served by function ${held.function}; delete it or change the path`,
          );
      },
    },
  });
  let watcher: DeployWatcher | undefined;
  return {
    deployer,
    async start() {
      const dir = d.config.watchDir;
      if (!dir) return;
      await mkdir(dir, { recursive: true });
      watcher = new DeployWatcher({
        dir,
        log: d.log,
        exists: (name) => d.versions.get(name) !== undefined,
        deploy: async (folder, name) => {
          const result = await deployer.deployFolder(folder, { overrides: { name } });
          if (result.created)
            d.log.info('deploy folder: deployed', { function: result.function, version: result.version });
          return result;
        },
        remove: (name) => d.deployer.remove(name),
      });
      await watcher.start();
      d.log.info('watching the deploy folder', { dir });
    },
    async close() {
      await watcher?.close();
    },
  };
}
