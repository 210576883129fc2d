/**
 * Runs the build of one bundle inside the sandbox, never on the host. kumo streams the checked
 * source in as a tar, the runtime's build runs in the build sandbox (runtimes/build-shim.ts) on a
 * private, size-limited tmpfs, and the built tree comes back as a tar that is unpacked with the
 * same checks as an upload. kumo keeps the launch record beside the tree (`launch.json`), never
 * inside it. Any failure becomes build_failed with the log; the output folder is removed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { create as createTar } from 'tar';
import { KumoError, type BuildLimits, type FunctionSpec } from '../core/index.ts';
import type { Driver, JobResult } from '../drivers/index.ts';
import { buildJobPlan, NEUTRAL, taskDir, writeLaunchRecord } from '../runtimes/index.ts';
import { BundleReader } from './archive.ts';

/** How builds run on this server. */
export interface BuilderOptions {
  driver: Driver;
  /** A folder for host-side work folders (used only without a sandbox). */
  workRoot: string;
  /** Settings given to package tools (registry, index, CA): see buildToolEnv. */
  toolEnv: Record<string, string>;
  /** The build proxy's Unix socket (build-proxy.ts), when `kumo up --build-allow` lists anything. */
  proxySocket?: string;
}

/**
 * Settings of the server's environment that point package tools at a registry or index and
 * trust its certificate. Proxies are not among them: a build reaches the network only through
 * kumo's build proxy.
 */
export function buildToolEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const pass =
    /^(?:npm_config_(?:registry|ca|cafile|strict_ssl|fetch_retries|fetch_retry_mintimeout|fetch_retry_maxtimeout|fetch_timeout)|pip_(?:index_url|extra_index_url|trusted_host|cert|timeout|retries)|node_extra_ca_certs|ssl_cert_file|requests_ca_bundle)$/i;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && pass.test(key)) out[key] = value;
  return out;
}

/** What one build needs. */
export interface BuildRequest {
  runtime: string;
  /** The extracted, checked bundle (left untouched). */
  sourceDir: string;
  /** Where the build goes (`task/` and `launch.json`); must not exist yet. */
  outDir: string;
  spec: FunctionSpec;
  limits: BuildLimits;
  signal: AbortSignal;
  onLog?: (line: string) => void;
}

/** Builds bundles in the sandbox. */
export class Builder {
  private readonly o: BuilderOptions;

  constructor(options: BuilderOptions) {
    this.o = options;
  }

  /** Builds `sourceDir` into `outDir`; returns the build log. On failure `outDir` is removed. */
  async build(r: BuildRequest): Promise<string> {
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      r.onLog?.(line);
    };
    const fail = (message: string) => new KumoError('build_failed', message, { log: lines.join('\n') });
    const neutral = this.o.driver.neutralPaths;
    await mkdir(this.o.workRoot, { recursive: true });
    const hostWork = await mkdtemp(path.join(this.o.workRoot, 'build-'));
    let output: BundleReader | undefined;
    try {
      const dir = neutral ? NEUTRAL.task : hostWork;
      const launch = buildJobPlan({
        runtime: r.runtime,
        spec: r.spec,
        view: { neutral },
        dir,
        env: this.o.toolEnv,
      });
      if (this.o.proxySocket) {
        const at = neutral ? NEUTRAL.proxyDir : path.dirname(this.o.proxySocket);
        launch.mounts.push({ source: path.dirname(this.o.proxySocket), target: at });
        launch.env.KUMO_PROXY_SOCKET = `${at}/${path.basename(this.o.proxySocket)}`;
      }
      // The built tree streams out of the job into a spool beside its destination, never whole in memory.
      await mkdir(r.outDir, { recursive: true });
      await mkdir(taskDir(r.outDir));
      const diskBytes = r.limits.diskMb * 1024 * 1024;
      output = await BundleReader.open(r.outDir, { maxEntries: 100_000, maxExpandedBytes: diskBytes });
      const result = await this.o.driver.run({
        id: `build-${randomUUID().slice(0, 12)}`,
        launch,
        limits: {
          memoryMb: r.limits.memoryMb,
          cpu: r.limits.cpu,
          // Never the host's network: the proxy (if any) is reached over a Unix socket.
          network: false,
          tmpSizeMb: r.limits.diskMb,
          maxProcesses: 256,
        },
        work: { sizeMb: r.limits.diskMb, hostDir: hostWork },
        timeoutMs: r.limits.timeoutMs,
        stdin: packSource(r.sourceDir),
        stdout: output.writable(),
        onStderr: log,
        signal: r.signal,
      });
      const record = this.verdict(result, r, fail);
      try {
        await output.finish();
        await output.writeTo(taskDir(r.outDir));
      } catch (err) {
        const message = (err as Error).message;
        if (/expands to more than/.test(message))
          throw fail(`the build's output is larger than its ${r.limits.diskMb} MB disk limit (build.disk)`);
        throw fail(`the build's output was refused: ${message}`);
      }
      await writeLaunchRecord(r.outDir, r.runtime, record);
      return lines.join('\n');
    } catch (err) {
      await rm(r.outDir, { recursive: true, force: true });
      if (err instanceof KumoError) {
        const details = (err.details ?? {}) as { log?: string };
        throw new KumoError(err.code, err.message, {
          ...(err.details as object),
          log: details.log ?? lines.join('\n'),
        });
      }
      throw fail(`build of '${r.spec.name}' failed: ${(err as Error).message}`);
    } finally {
      await output?.close();
      await rm(hostWork, { recursive: true, force: true });
    }
  }

  /** The launch record of a job that built, or the error saying why it did not. */
  private verdict(
    result: JobResult,
    r: BuildRequest,
    fail: (message: string) => KumoError,
  ): Record<string, unknown> {
    const { limits } = r;
    if (result.reason === 'cancelled') throw fail('the build was cancelled');
    if (result.reason === 'timeout')
      throw fail(`the build took longer than its ${limits.timeoutMs / 1000} s limit (build.timeout)`);
    if (result.reason === 'memory_limit')
      throw fail(`the build ran out of memory: it may use ${limits.memoryMb} MB (build.memory)`);
    const message = lastJson(result.control);
    if (message?.type === 'error') {
      const code =
        message.code === 'unknown_handler' || message.code === 'invalid_manifest'
          ? message.code
          : 'build_failed';
      const text = typeof message.message === 'string' ? message.message : 'the build failed';
      if (/ENOSPC|No space left/.test(text))
        throw fail(`the build ran out of disk: it may write ${limits.diskMb} MB (build.disk)`);
      // build() adds the build log to the error's details.
      throw new KumoError(code, text.slice(0, 4000));
    }
    const record = message?.type === 'built' ? message.record : undefined;
    if (result.code !== 0 || typeof record !== 'object' || record === null || Array.isArray(record)) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      throw fail(`the build ${how} without a result; see the build log`);
    }
    return record as Record<string, unknown>;
  }
}

/** The last JSON object line of a job's fd 3, if any. */
function lastJson(text: string): Record<string, unknown> | undefined {
  const lines = text.split('\n').filter((l) => l.trim());
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(last);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A tar stream of the checked source, as the build reads it on stdin. */
function packSource(dir: string): PassThrough {
  const out = new PassThrough();
  // tar reads files 16 MB at a time by default: a big bundle would cost that much memory per read.
  const tar = createTar({ cwd: dir, portable: true, maxReadSize: 256 * 1024 }, ['.']);
  tar.on('error', (err: unknown) => out.destroy(err as Error));
  tar.pipe(out);
  return out;
}
