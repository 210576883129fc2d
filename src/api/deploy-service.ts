/**
 * Deploy, as one transaction seen from outside: extract and check the bundle, settle the spec,
 * skip identical content, build, prove the code loads on a real instance, then record version
 * N+1 and switch traffic to it. Any failure leaves the previous version serving and nothing stored.
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  DEFAULT_ARCHIVE_LIMITS,
  extractBundle,
  hashTree,
  readManifestFile,
  resolveSpec,
  runtimeFor,
  sha256,
  type ArchiveLimits,
  type Builder,
  type BuildStore,
  type DeployOverrides,
} from '../build/index.ts';
import {
  KumoError,
  resolveBuildLimits,
  resolvePluginQuotas,
  type BuildLimits,
  type FunctionSpec,
  type PluginQuotas,
} from '../core/index.ts';
import type { ServerLog } from '../core/index.ts';
import type { InstancePool, PoolTarget } from '../pool/index.ts';
import type { ActiveVersions, FunctionStore } from '../store/index.ts';
import { deleteFunctionCode, pruneVersions } from './retention.ts';

/** The answer to a deploy (docs/http-api.md "DeployResult"). */
export interface DeployResult {
  function: string;
  version: number;
  created: boolean;
  hash: string;
  url: string;
  path: string;
  files: number;
  bytes: number;
  buildLog: string;
  durationMs: number;
  /** The alias the deploy pointed at this version (SAM AutoPublishAlias). */
  alias?: string;
}

/** Progress callbacks of one deploy. */
export interface DeployProgress {
  onBuild?(version: number): void;
  onLog?(line: string): void;
  onStart?(): void;
}

/** What deploys need. */
export interface DeployServiceDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  pool: InstancePool;
  dataDir: string;
  log: ServerLog;
  urls: (name: string) => { url: string; path: string };
  /** Runs builds in the sandbox. */
  builder: Builder;
  /** Content-addressed build folders. */
  builds: BuildStore;
  /** The server's build limits (defaults and ceilings). */
  buildLimits: BuildLimits;
  /** Versions kept per function besides the active one and its rollback target. */
  keepVersions: number;
  /** Ceilings of the manifest's `kv:` and `docs:` quotas (absent: only the schema's bounds). */
  pluginQuotas?: PluginQuotas;
  /** Bytes a bundle may expand to (the default of archive.ts when absent). */
  bundleLimit?: number;
  /** Makes build `hash` fetchable by the other nodes of the store (before the version is recorded). */
  publishBuild?: (hash: string, buildDir: string) => Promise<void>;
  now?: () => number;
}

/** Deploys bundles, one at a time per function. */
export class DeployService {
  private readonly d: DeployServiceDeps & { now: () => number };
  private readonly locks: Map<string, Promise<unknown>> = new Map();
  /** The bounds every bundle is unpacked within (source deploys use them too). */
  readonly archiveLimits: ArchiveLimits;

  constructor(deps: DeployServiceDeps) {
    this.d = { now: Date.now, ...deps };
    this.archiveLimits = {
      ...DEFAULT_ARCHIVE_LIMITS,
      ...(deps.bundleLimit ? { maxExpandedBytes: deps.bundleLimit } : {}),
    };
  }

  /** Deploys `archive` (a gzipped tar) with `overrides` applied over its kumo.yaml. */
  async deploy(
    archive: Buffer,
    overrides: DeployOverrides,
    progress: DeployProgress = {},
    signal = new AbortController().signal,
  ): Promise<DeployResult> {
    const began = this.d.now();
    const tmpRoot = path.join(this.d.dataDir, 'tmp');
    await mkdir(tmpRoot, { recursive: true });
    const work = await mkdtemp(path.join(tmpRoot, 'deploy-'));
    try {
      const sourceDir = path.join(work, 'src');
      await mkdir(sourceDir);
      const { files, bytes } = await extractBundle(archive, sourceDir, this.archiveLimits);
      const { file, data } = await readManifestFile(sourceDir);
      const spec = resolveSpec(data, overrides, file ?? 'manifest');
      const runtime = runtimeFor(spec.runtime);
      const buildLimits = resolveBuildLimits(spec.build, this.d.buildLimits);
      if (this.d.pluginQuotas) resolvePluginQuotas(spec, this.d.pluginQuotas);
      const treeHash = await hashTree(sourceDir);
      const hash = sha256(`${treeHash}\n${canonicalJson(spec)}`);
      return await this.withLock(spec.name, async () => {
        // Held until its version is recorded: a sweep of unused builds (several nodes) leaves it alone.
        const release = await this.d.builds.hold(hash);
        try {
          return await this.deployLocked({
            archive,
            sourceDir,
            spec,
            hash,
            files,
            bytes,
            began,
            progress,
            signal,
            runtimeName: runtime.name,
            buildLimits,
          });
        } finally {
          release();
        }
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async deployLocked(a: {
    archive: Buffer;
    sourceDir: string;
    spec: FunctionSpec;
    hash: string;
    files: number;
    bytes: number;
    began: number;
    progress: DeployProgress;
    signal: AbortSignal;
    runtimeName: string;
    buildLimits: BuildLimits;
  }): Promise<DeployResult> {
    const { spec, hash } = a;
    const name = spec.name;
    const result = (version: number, created: boolean, buildLog: string): DeployResult => ({
      function: name,
      version,
      created,
      hash,
      ...this.d.urls(name),
      files: a.files,
      bytes: a.bytes,
      buildLog,
      durationMs: this.d.now() - a.began,
    });
    const current = await this.d.store.getFunction(name);
    const active = current ? await this.d.store.getVersion(name, current.activeVersion) : undefined;
    if (active && active.hash === hash) return result(active.version, false, active.buildLog);

    const version = await this.d.store.nextVersion(name);
    a.progress.onBuild?.(version);
    const buildDir = this.d.builds.dirFor(hash);
    let buildLog: string;
    if (await this.d.builds.has(hash)) {
      // The same content and spec were built before (an earlier version): its build is reused.
      buildLog = 'identical to an earlier build: reused it';
      a.progress.onLog?.(buildLog);
    } else {
      // A crash between build and commit can leave a half-written folder for this hash.
      await rm(buildDir, { recursive: true, force: true });
      await mkdir(path.dirname(buildDir), { recursive: true });
      buildLog = await this.d.builder.build({
        runtime: a.runtimeName,
        sourceDir: a.sourceDir,
        outDir: buildDir,
        spec,
        limits: a.buildLimits,
        signal: a.signal,
        ...(a.progress.onLog ? { onLog: a.progress.onLog } : {}),
      });
    }
    const target: PoolTarget = { functionName: name, version, spec, buildDir };
    a.progress.onStart?.();
    let warm;
    try {
      warm = await this.d.pool.startDetached(target);
    } catch (err) {
      await this.d.builds.release(buildDir);
      if (err instanceof KumoError && err.code === 'unknown_handler') throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new KumoError(
        'build_failed',
        `version ${version} of '${name}' built but did not start: ${message}`,
        {
          log: `${buildLog}\n${message}`.trim(),
        },
      );
    }
    const bundleHash = sha256(a.archive);
    await this.saveBundle(bundleHash, a.archive);
    try {
      await this.d.publishBuild?.(hash, buildDir);
    } catch (err) {
      warm.stop().catch(() => {});
      throw new KumoError(
        'store_unavailable',
        `version ${version} of '${name}' built, but its code could not be stored for the other nodes: ${(err as Error).message}`,
      );
    }
    await this.d.store.addVersion({
      function: name,
      version,
      hash,
      bundleHash,
      spec,
      buildDir,
      buildLog,
      createdAt: this.d.now(),
    });
    await this.d.versions.refresh(name);
    this.d.pool.activate(target, warm);
    this.d.log.info('deployed', { function: name, version, hash: hash.slice(0, 12) });
    const pruned = await pruneVersions(this.d.store, this.d.builds, name, this.d.keepVersions);
    if (pruned.length) this.d.log.info('pruned old versions', { function: name, versions: pruned.join(',') });
    return result(version, true, buildLog);
  }

  /** Deletes function `name`: its record, its instances, then its code (builds, staged copies, bundles). */
  async remove(name: string): Promise<void> {
    await this.withLock(name, async () => {
      this.d.pool.retireFunction(name);
      await deleteFunctionCode(this.d.store, this.d.builds, name);
      await this.d.versions.refresh(name);
    });
  }

  /** Stores the uploaded archive under its sha256 (kept for rebuilds and audits). */
  private async saveBundle(hash: string, archive: Buffer): Promise<void> {
    const dir = path.join(this.d.dataDir, 'bundles');
    const file = path.join(dir, `${hash}.tar.gz`);
    if (await stat(file).catch(() => undefined)) return;
    await mkdir(dir, { recursive: true });
    // Two deploys of one archive (under two names) can get here at once: each writes its own
    // temporary file, and the second rename replaces the first with the same bytes.
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, archive);
    await rename(tmp, file);
  }

  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(fn);
    this.locks.set(name, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === run) this.locks.delete(name);
    }
  }
}

/** JSON with sorted keys, so equal specs hash equally. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
