/**
 * The control variables the runtime hands the shim (see `launch.ts`). The shim reads them once at
 * start and deletes them, so the function's `process.env` holds only its own variables and the
 * basics (PATH, HOME, NODE_ENV).
 */
import { COMMON_CONTROL, ENV, HANDLER_STYLES } from '../../../core/index.ts';
import { takeCommonControl, takeVariable, type CommonControl } from '../support.ts';

/** Names of every control variable of the node shim, for `launch` and the shim. */
export const CONTROL_VARIABLES = [...COMMON_CONTROL, ENV.entry, ENV.exportName, ENV.style] as const;

/** Handler styles as the shim knows them (the manifest's `style`). */
export type Style = (typeof HANDLER_STYLES)[number];

const STYLES: readonly string[] = HANDLER_STYLES;

/** What the shim was told to run. */
export interface Control extends CommonControl {
  /** Absolute path of the module to import. */
  entry: string;
  /** The export named by the manifest's handler (`index.main`), or null to detect. */
  exportName: string | null;
  style: Style;
}

/** Reads the control variables from `env` and deletes them; throws naming a missing one. */
export function takeControl(env: Record<string, string | undefined>): Control {
  const entry = takeVariable(env, ENV.entry);
  const exportName = takeVariable(env, ENV.exportName);
  const style = takeVariable(env, ENV.style) || 'auto';
  const common = takeCommonControl(env);
  if (!entry) throw new Error(`${ENV.entry} is not set: the shim is started by kumo, not by hand`);
  if (!STYLES.includes(style))
    throw new Error(`${ENV.style} must be one of ${STYLES.join(', ')} (got ${style})`);
  return { ...common, entry, exportName: exportName || null, style: style as Style };
}
