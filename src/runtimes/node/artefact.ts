/**
 * The small record a build leaves in `outDir/.kumo/launch.json`, so `launch()` is cheap and
 * synchronous: which file to import, which export, which style.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HANDLER_STYLES, KumoError } from '../../core/index.ts';
import type { FunctionSpec } from '../../core/index.ts';

/** Where kumo keeps its own files inside a build directory. */
export const KUMO_DIR = '.kumo';
/** The launch record, relative to the build directory. */
export const LAUNCH_FILE = join(KUMO_DIR, 'launch.json');

/** What the shim must import and how to call it. */
export interface LaunchInfo {
  /** The module to import, relative to the build directory. */
  entry: string;
  /** The export named by the manifest's handler, or null to detect it. */
  exportName: string | null;
  style: FunctionSpec['style'];
}

/** Writes the launch record into `buildDir`. */
export async function writeLaunchInfo(buildDir: string, info: LaunchInfo): Promise<void> {
  const file = join(buildDir, LAUNCH_FILE);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`);
}

/** Reads the launch record of a built artefact; throws instance_failed_to_start when it is missing or bad. */
export function readLaunchInfo(buildDir: string): LaunchInfo {
  const file = join(buildDir, LAUNCH_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KumoError(
      'instance_failed_to_start',
      `${file} is missing or unreadable (${(err as Error).message}): the build did not complete; deploy again`,
    );
  }
  const info = raw as Partial<LaunchInfo> | null;
  const styles: readonly string[] = HANDLER_STYLES;
  if (
    typeof info?.entry !== 'string' ||
    !(info.exportName === null || typeof info.exportName === 'string') ||
    typeof info.style !== 'string' ||
    !styles.includes(info.style)
  ) {
    throw new KumoError(
      'instance_failed_to_start',
      `${file} is not a launch record this kumo understands; deploy again`,
    );
  }
  return { entry: info.entry, exportName: info.exportName, style: info.style };
}
