/**
 * The control variables the runtime hands the shim (see `launch.ts`). The shim reads them once at
 * start and deletes them, so the function's `process.env` holds only its own variables and the
 * basics (PATH, HOME, NODE_ENV).
 */
import { takeVariable } from '../shim-support.ts';

/** Names of every control variable, in one place for `launch` and the shim. */
export const CONTROL_VARIABLES = [
  'KUMO_SOCKET',
  'KUMO_ENTRY',
  'KUMO_EXPORT',
  'KUMO_STYLE',
  'KUMO_FUNCTION',
  'KUMO_VERSION',
  'KUMO_MEMORY',
  'KUMO_TIMEOUT',
  'KUMO_ENV_KEYS',
] as const;

/** One control variable's name. */
export type ControlVariable = (typeof CONTROL_VARIABLES)[number];

/** Handler styles as the shim knows them (the manifest's `style`). */
export type Style = 'auto' | 'fetch' | 'node' | 'lambda' | 'plain';

const STYLES: readonly string[] = ['auto', 'fetch', 'node', 'lambda', 'plain'];

/** What the shim was told to run. */
export interface Control {
  socketPath: string;
  /** Absolute path of the module to import. */
  entry: string;
  /** The export named by the manifest's handler (`index.main`), or null to detect. */
  exportName: string | null;
  style: Style;
  functionName: string;
  version: string;
  memoryMb: number;
  timeoutMs: number;
  /** The function's own variables (from the manifest), as the handler sees them. */
  vars: Record<string, string>;
}

/** Reads the control variables from `env` and deletes them; throws naming a missing one. */
export function takeControl(env: Record<string, string | undefined>): Control {
  const take = (name: ControlVariable): string => takeVariable(env, name);
  const socketPath = take('KUMO_SOCKET');
  const entry = take('KUMO_ENTRY');
  const exportName = take('KUMO_EXPORT');
  const style = take('KUMO_STYLE') || 'auto';
  const functionName = take('KUMO_FUNCTION');
  const version = take('KUMO_VERSION');
  const memoryMb = Number(take('KUMO_MEMORY'));
  const timeoutMs = Number(take('KUMO_TIMEOUT'));
  const keys = take('KUMO_ENV_KEYS');
  if (!socketPath) throw new Error('KUMO_SOCKET is not set: the shim is started by kumo, not by hand');
  if (!entry) throw new Error('KUMO_ENTRY is not set: the shim is started by kumo, not by hand');
  if (!STYLES.includes(style))
    throw new Error(`KUMO_STYLE must be one of ${STYLES.join(', ')} (got ${style})`);
  const vars: Record<string, string> = {};
  for (const key of keys.split(',')) {
    const value = key ? env[key] : undefined;
    if (value !== undefined) vars[key] = value;
  }
  return {
    socketPath,
    entry,
    exportName: exportName || null,
    style: style as Style,
    functionName,
    version,
    memoryMb: Number.isFinite(memoryMb) ? memoryMb : 0,
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 30_000,
    vars,
  };
}
