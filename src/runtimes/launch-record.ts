/**
 * The launch record a build leaves in `outDir/.kumo/<runtime>.json`, so that `launch()` stays cheap
 * and synchronous, shared by the python, exec and lua runtimes (node keeps its own). The record is
 * plain JSON checked field by field by the runtime that reads it.
 */
import type { LaunchOptions } from './runtime.ts';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KumoError } from '../core/index.ts';

/** The folder inside a build directory that holds kumo's own files. */
export const RECORD_DIR = '.kumo';

/** Writes `record` as the launch record of `runtime` in `buildDir`. */
export async function writeLaunchRecord(buildDir: string, runtime: string, record: object): Promise<void> {
  const file = join(buildDir, RECORD_DIR, `${runtime}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Reads the launch record of `runtime`; throws instance_failed_to_start when it is missing or unreadable. */
export function readLaunchRecord(buildDir: string, runtime: string): Record<string, unknown> {
  const file = join(buildDir, RECORD_DIR, `${runtime}.json`);
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch (err) {
    throw new KumoError(
      'instance_failed_to_start',
      `${file} is missing or unreadable (${(err as Error).message}): deploy again`,
    );
  }
  throw new KumoError(
    'instance_failed_to_start',
    `${file} is not a launch record this kumo understands: deploy again`,
  );
}

/** A string field of a launch record, or the error naming it. */
export function recordString(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string')
    throw new KumoError(
      'instance_failed_to_start',
      `launch record field "${field}" is missing: deploy again`,
    );
  return value;
}

/** The basics every instance of these runtimes gets; the function's own variables may override them. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
};

/** The control variables common to every shim: where to listen and what it runs. */
export function controlEnv(options: LaunchOptions): Record<string, string> {
  const { spec } = options;
  return {
    KUMO_SOCKET: options.socketPath,
    KUMO_FUNCTION: spec.name,
    KUMO_VERSION: String(options.version),
    KUMO_MEMORY: String(spec.memory),
    KUMO_TIMEOUT: String(spec.timeout),
    KUMO_ENV_KEYS: Object.keys(spec.env).join(','),
  };
}
