/**
 * The node runtime's launch record: which file to import, which export, which style. The build
 * returns it; kumo keeps it beside the built tree; `launch()` checks it here.
 */
import { HANDLER_STYLES, KumoError } from '../../core/index.ts';
import type { FunctionSpec } from '../../core/index.ts';
import { readLaunchRecord, recordBundlePath } from '../launch-record.ts';

/** What the shim must import and how to call it. */
export interface LaunchInfo {
  /** The module to import, relative to the bundle. */
  entry: string;
  /** The export named by the manifest's handler, or null to detect it. */
  exportName: string | null;
  style: FunctionSpec['style'];
}

/** Reads and checks the launch record of a built version; throws instance_failed_to_start when bad. */
export function readLaunchInfo(buildDir: string): LaunchInfo {
  const record = readLaunchRecord(buildDir, 'node');
  const entry = recordBundlePath(record, 'entry');
  const exportName = record.exportName;
  const style = record.style;
  const styles: readonly unknown[] = HANDLER_STYLES;
  if (!(exportName === null || typeof exportName === 'string') || !styles.includes(style)) {
    throw new KumoError(
      'instance_failed_to_start',
      'the node launch record is not one this kumo understands; deploy again',
    );
  }
  return { entry, exportName, style: style as FunctionSpec['style'] };
}
