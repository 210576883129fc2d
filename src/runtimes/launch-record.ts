/**
 * The launch record a build returns, as kumo keeps it in `launch.json` beside the built tree
 * (never inside it), and the basics every instance's environment starts from. The record comes
 * out of the build sandbox, so each runtime checks every field it reads like any other input.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { ENV, KumoError } from '../core/index.ts';
import { launchRecordFile } from './layout.ts';
import type { LaunchOptions, LaunchRecord } from './runtime.ts';

/** Keeps `record` as the launch record of a build folder (beside its `task/`, never inside). */
export async function writeLaunchRecord(
  buildDir: string,
  runtime: string,
  record: LaunchRecord,
): Promise<void> {
  await mkdir(buildDir, { recursive: true });
  await writeFile(launchRecordFile(buildDir), `${JSON.stringify({ runtime, record }, null, 2)}\n`);
}

/** The record kumo kept for a build: written by the build's runtime, checked by its launch. */
export function readLaunchRecord(buildDir: string, runtime: string): LaunchRecord {
  const file = launchRecordFile(buildDir);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KumoError(
      'instance_failed_to_start',
      `the launch record of this version is missing or unreadable (${(err as Error).message}): deploy again`,
    );
  }
  const kept = value as { runtime?: unknown; record?: unknown } | null;
  if (
    kept?.runtime !== runtime ||
    typeof kept.record !== 'object' ||
    kept.record === null ||
    Array.isArray(kept.record)
  ) {
    throw new KumoError(
      'instance_failed_to_start',
      `the launch record of this version is not a ${runtime} record this kumo understands: deploy again`,
    );
  }
  return kept.record as LaunchRecord;
}

/** A string field of a launch record, or the error naming it. */
export function recordString(record: LaunchRecord, field: string): string {
  const value = record[field];
  if (typeof value !== 'string')
    throw new KumoError(
      'instance_failed_to_start',
      `launch record field "${field}" is missing: deploy again`,
    );
  return value;
}

/** `value` normalised when it names something inside the bundle (relative, no `..`, no NUL), else undefined. */
export function insideBundle(value: string): string | undefined {
  const normal = posix.normalize(value);
  if (
    !value ||
    value.includes('\0') ||
    posix.isAbsolute(normal) ||
    normal === '..' ||
    normal.startsWith('../')
  )
    return undefined;
  return normal;
}

/**
 * A path field of a launch record that must name something inside the bundle. The record comes
 * out of the build sandbox, so it is checked like input.
 */
export function recordBundlePath(record: LaunchRecord, field: string): string {
  const value = recordString(record, field);
  const normal = insideBundle(value);
  if (normal === undefined)
    throw new KumoError(
      'instance_failed_to_start',
      `launch record field "${field}" must be a path inside the bundle (got ${JSON.stringify(value)}): deploy again`,
    );
  return normal;
}

/** The basics every instance gets; the function's own variables may override them. */
export const BASE_ENV: { readonly PATH: string; readonly HOME: string; readonly LANG: string } = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
};

/** The control variables common to every shim: where to listen and what it runs. */
export function controlEnv(options: LaunchOptions): Record<string, string> {
  const { spec } = options;
  return {
    [ENV.socket]: options.socketPath,
    [ENV.functionName]: spec.name,
    [ENV.version]: String(options.version),
    [ENV.memory]: String(spec.memory),
    [ENV.timeout]: String(spec.timeout),
    [ENV.envKeys]: Object.keys(spec.env).join(','),
  };
}

/** Lambda's variable naming where the function's code is (what `showTask` returned). */
export function taskEnv(task: string): Record<string, string> {
  return { LAMBDA_TASK_ROOT: task };
}
