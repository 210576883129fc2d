/** Runs a runtime's build of one bundle, collecting its log; any failure becomes build_failed with the log. */
import { cp, mkdir, rm } from 'node:fs/promises';
import { KumoError, type FunctionSpec } from '../core/index.ts';
import type { Runtime } from '../runtimes/index.ts';

/** What one build needs. */
export interface BuildRequest {
  runtime: Runtime;
  /** The extracted bundle (left untouched: the build works on its own copy). */
  sourceDir: string;
  /** Where the artefact goes; must not exist yet. */
  outDir: string;
  spec: FunctionSpec;
  signal: AbortSignal;
  onLog?: (line: string) => void;
}

/** Builds `sourceDir` into `outDir`; returns the build log. On failure `outDir` is removed. */
export async function buildBundle(r: BuildRequest): Promise<string> {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    r.onLog?.(line);
  };
  const work = `${r.outDir}.src`;
  try {
    await rm(work, { recursive: true, force: true });
    await cp(r.sourceDir, work, { recursive: true, verbatimSymlinks: true });
    await mkdir(r.outDir, { recursive: true });
    await r.runtime.build({ sourceDir: work, outDir: r.outDir, spec: r.spec, log, signal: r.signal });
    return lines.join('\n');
  } catch (err) {
    await rm(r.outDir, { recursive: true, force: true });
    const buildLog = lines.join('\n');
    if (err instanceof KumoError) {
      if (err.code === 'build_failed') {
        const details = (err.details ?? {}) as { log?: string };
        throw new KumoError('build_failed', err.message, { log: details.log ?? buildLog });
      }
      throw err;
    }
    throw new KumoError('build_failed', `build of '${r.spec.name}' failed: ${(err as Error).message}`, {
      log: buildLog,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
