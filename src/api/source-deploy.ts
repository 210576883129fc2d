/**
 * Deploys from every kind of source: an uploaded .tar.gz or .zip, a git repository, or a folder
 * (the watched deploy folder). Each source is extracted and checked, planned into kumo functions
 * (build/formats: kumo.yaml, run.json, .eserveless.yaml projects, runtime detection) and each
 * function goes through DeployService, which owns versions, builds and activation. Where a version
 * came from (git commit) is recorded beside it; a git deploy whose commit is what every function
 * of that repository already runs is a no-op, without a clone.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  checkRef,
  checkTree,
  cloneAt,
  extractBundle,
  extractZip,
  isZip,
  packDirectory,
  planSource,
  remoteCommit,
  repositoryUrl,
  type DeployOverrides,
  type ExtraFields,
  type GitConfig,
  type Unit,
} from '../build/index.ts';
import {
  FUNCTION_NAME,
  KumoError,
  type ApiRoute,
  type ApiRouteRecord,
  type ServerLog,
} from '../core/index.ts';
import type { FunctionStore, VersionSource } from '../store/index.ts';
import type { DeployProgress, DeployResult, DeployService } from './deploy-service.ts';

/** A deploy of several functions (a project) answers with each of them. */
export interface SourceDeployResult extends DeployResult {
  /** Every function the source deployed (one for a plain function). */
  functions?: DeployResult[];
  /** What the source asked for that kumo did not deploy (SAM templates). */
  ignored?: string[];
  source?: {
    kind: VersionSource['kind'];
    format: string;
    repository?: string;
    ref?: string;
    commit?: string;
  };
}

/** Progress of a source deploy: DeployService's events, plus one per finished function of a project. */
export interface SourceProgress extends DeployProgress {
  onFunction?(result: DeployResult): void;
}

/** What source deploys need. */
export interface SourceDeployerDeps {
  deployer: DeployService;
  store: FunctionStore;
  dataDir: string;
  git: GitConfig;
  log: ServerLog;
  urls: (name: string) => { url: string; path: string };
  /** Points alias `alias` of `fn` at `version` (SAM's AutoPublishAlias), creating it if need be. */
  publishAlias?: (fn: string, alias: string, version: number) => Promise<void>;
  /** API routes (SAM Api/HttpApi events); absent: a source with routes is refused. */
  apiRoutes?: ApiRouteDeps;
}

/** How a source deploy reads and writes API routes. */
export interface ApiRouteDeps {
  list(): Promise<ApiRouteRecord[]>;
  /** Makes `routes` the routes of `fn`; throws route_conflict when one is another function's. */
  set(fn: string, routes: ApiRoute[]): Promise<void>;
}

/** Options that apply to whatever the source holds. */
export interface SourceOptions {
  overrides: DeployOverrides;
  /** Manifest fields without a DeployService flag (lua limits), merged into the source's manifest. */
  extra?: ExtraFields;
  /** The name of a single function whose manifest has none and no --name was given. */
  fallbackName?: string;
  /** A SAM template to deploy (a file of the source), instead of looking for a manifest. */
  template?: string;
}

/** Deploys sources. */
export class SourceDeployer {
  private readonly d: SourceDeployerDeps;

  constructor(deps: SourceDeployerDeps) {
    this.d = deps;
  }

  /** An uploaded archive: a gzipped tar or a zip, told apart by their first bytes. */
  async deployArchive(
    archive: Buffer,
    options: SourceOptions,
    progress: SourceProgress = {},
    signal?: AbortSignal,
  ): Promise<SourceDeployResult> {
    const zip = isZip(archive);
    return this.withWorkDir(async (work) => {
      const dir = path.join(work, 'src');
      await mkdir(dir);
      if (zip) await extractZip(archive, dir, this.d.deployer.archiveLimits);
      else await extractBundle(archive, dir, this.d.deployer.archiveLimits);
      return this.deployDir(
        dir,
        work,
        options,
        { kind: zip ? 'zip' : 'upload', repository: null, ref: null, commit: null },
        progress,
        signal,
        zip ? undefined : archive,
      );
    });
  }

  /** A folder on this server (the watched deploy folder); the folder is not modified. */
  async deployFolder(
    folder: string,
    options: SourceOptions,
    progress: SourceProgress = {},
  ): Promise<SourceDeployResult> {
    return this.withWorkDir(async (work) => {
      const archive = await packDirectory(folder);
      const dir = path.join(work, 'src');
      await mkdir(dir);
      await extractBundle(archive, dir, this.d.deployer.archiveLimits);
      return this.deployDir(
        dir,
        work,
        options,
        { kind: 'watch', repository: null, ref: null, commit: null },
        progress,
        undefined,
        archive,
      );
    });
  }

  /** A git repository at `ref`; a no-op when every function from it already runs that commit. */
  async deployRepository(
    repository: string,
    ref: string | undefined,
    options: SourceOptions,
    progress: SourceProgress = {},
    signal?: AbortSignal,
  ): Promise<SourceDeployResult> {
    const url = repositoryUrl(repository, this.d.git);
    const checkedRef = checkRef(ref);
    const commit = await remoteCommit(url, checkedRef, this.d.git);
    const unchanged = await this.unchangedFrom(url, commit);
    if (unchanged) return unchanged;
    return this.withWorkDir(async (work) => {
      const dir = path.join(work, 'src');
      const cloned = await cloneAt(url, checkedRef, dir, this.d.git);
      await checkTree(dir, `repository ${url}`);
      this.d.log.info('cloned', { repository: url, ref: checkedRef ?? 'HEAD', commit: cloned.slice(0, 12) });
      const named = { ...options, fallbackName: options.fallbackName ?? nameFromUrl(url) };
      return this.deployDir(
        dir,
        work,
        named,
        { kind: 'git', repository: url, ref: checkedRef ?? null, commit: cloned },
        progress,
        signal,
      );
    });
  }

  private async deployDir(
    dir: string,
    work: string,
    options: SourceOptions,
    source: Omit<VersionSource, 'function' | 'version'>,
    progress: SourceProgress,
    signal: AbortSignal | undefined,
    original?: Buffer,
  ): Promise<SourceDeployResult> {
    const fallback = options.overrides.name === undefined ? options.fallbackName : undefined;
    const plan = await planSource(
      dir,
      path.join(work, 'units'),
      options.extra ?? {},
      fallback,
      options.template,
    );
    const moves = await this.checkRoutes(plan.units);
    const results: DeployResult[] = [];
    for (const unit of plan.units) {
      const archive = !unit.rewritten && original ? original : await packDirectory(unit.dir);
      // A project names its functions; a deploy name (the folder's, by default) must not rename them all.
      const overrides = unit.name ? { ...options.overrides, name: unit.name } : options.overrides;
      const result = await this.d.deployer.deploy(archive, overrides, progress, signal);
      if (result.created)
        await this.d.store.recordSource({ ...source, function: result.function, version: result.version });
      if (unit.alias !== undefined) {
        if (!this.d.publishAlias)
          throw new KumoError('internal_error', 'this server cannot publish aliases (no alias store)');
        await this.d.publishAlias(result.function, unit.alias, result.version);
      }
      results.push(unit.alias !== undefined ? { ...result, alias: unit.alias } : result);
      if (plan.kind === 'project') progress.onFunction?.(result);
    }
    await this.setRoutes(plan.units, moves);
    const first = results[0];
    if (!first) throw new KumoError('source_failed', 'the source holds no function to deploy');
    const summary: SourceDeployResult = {
      ...(plan.kind === 'project' ? { ...first, created: results.some((r) => r.created) } : first),
      source: { kind: source.kind, format: plan.format, ...gitFields(source) },
    };
    if (plan.kind === 'project') summary.functions = results;
    if (plan.ignored) summary.ignored = plan.ignored;
    return summary;
  }

  /**
   * Refuses, before anything is deployed, routes that a function outside the source serves.
   * True when a route moves between functions of the source (then all are cleared first).
   */
  private async checkRoutes(units: Unit[]): Promise<boolean> {
    const wanted = units.filter((u) => u.routes?.length);
    if (wanted.length === 0) return false;
    if (!this.d.apiRoutes) throw new KumoError('internal_error', 'this server cannot serve API routes');
    const ours = new Set(units.map((u) => u.name));
    let moves = false;
    const held = new Map((await this.d.apiRoutes.list()).map((r) => [`${r.method} ${r.path}`, r.function]));
    for (const unit of wanted) {
      for (const r of unit.routes ?? []) {
        const holder = held.get(`${r.method} ${r.path}`);
        if (holder === undefined || holder === unit.name) continue;
        if (!ours.has(holder))
          throw new KumoError(
            'route_conflict',
            `route ${r.method} ${r.path} is served by function ${holder}; delete it or change the path`,
          );
        moves = true;
      }
    }
    return moves;
  }

  /** Gives each unit of a template its routes (none: its old ones go). */
  private async setRoutes(units: Unit[], moves: boolean): Promise<void> {
    const routed = units.filter(
      (u): u is Unit & { name: string; routes: ApiRoute[] } => u.routes !== undefined && u.name !== undefined,
    );
    if (routed.length === 0 || !this.d.apiRoutes) return;
    if (moves) for (const unit of routed) await this.d.apiRoutes.set(unit.name, []);
    for (const unit of routed) await this.d.apiRoutes.set(unit.name, unit.routes);
  }

  /** The results to answer when every active function deployed from `url` runs `commit`. */
  private async unchangedFrom(url: string, commit: string): Promise<SourceDeployResult | undefined> {
    const results: DeployResult[] = [];
    for (const fn of await this.d.store.listFunctions()) {
      const src = await this.d.store.getSource(fn.name, fn.activeVersion);
      if (!src || src.repository !== url) continue;
      if (src.commit !== commit) return undefined;
      const version = await this.d.store.getVersion(fn.name, fn.activeVersion);
      if (!version) return undefined;
      results.push({
        function: fn.name,
        version: fn.activeVersion,
        created: false,
        hash: version.hash,
        ...this.d.urls(fn.name),
        files: 0,
        bytes: 0,
        buildLog: version.buildLog,
        durationMs: 0,
      });
    }
    const first = results[0];
    if (!first) return undefined;
    return {
      ...first,
      ...(results.length > 1 ? { functions: results } : {}),
      source: { kind: 'git', format: 'unchanged', repository: url, commit },
    };
  }

  private async withWorkDir<T>(fn: (work: string) => Promise<T>): Promise<T> {
    const tmpRoot = path.join(this.d.dataDir, 'tmp');
    await mkdir(tmpRoot, { recursive: true });
    const work = await mkdtemp(path.join(tmpRoot, 'source-'));
    try {
      return await fn(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** `https://host/owner/my-fn.git` → `my-fn` (undefined when that is no function name). */
export function nameFromUrl(url: string): string | undefined {
  const base = url.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  const name = base
    .replace(/\.git$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return FUNCTION_NAME.test(name) ? name : undefined;
}

function gitFields(source: Omit<VersionSource, 'function' | 'version'>): {
  repository?: string;
  ref?: string;
  commit?: string;
} {
  return {
    ...(source.repository ? { repository: source.repository } : {}),
    ...(source.ref ? { ref: source.ref } : {}),
    ...(source.commit ? { commit: source.commit } : {}),
  };
}
