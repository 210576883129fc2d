/** Reads `kumo.yaml` from a bundle and merges the deploy flags over it into a FunctionSpec. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { KumoError, parseManifest, toFunctionSpec, type FunctionSpec } from '../core/index.ts';

/** Manifest file names, in order of preference. */
export const MANIFEST_FILES = ['kumo.yaml', 'kumo.yml'] as const;

/** Deploy flags that override the manifest. */
export interface DeployOverrides {
  name?: string;
  handler?: string;
  memory?: number;
  timeout?: string;
  cpu?: number;
  maxProcesses?: number;
  tmpSize?: number;
  env?: Record<string, string>;
}

/** The raw manifest data of the bundle at `dir` (an empty mapping when there is none). */
export async function readManifestFile(
  dir: string,
): Promise<{ file: string | undefined; data: Record<string, unknown> }> {
  for (const file of MANIFEST_FILES) {
    let text: string;
    try {
      text = await readFile(path.join(dir, file), 'utf8');
    } catch {
      continue;
    }
    let data: unknown;
    try {
      data = parseYaml(text);
    } catch (err) {
      const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
      throw new KumoError(
        'invalid_manifest',
        `${file}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    if (data === null || data === undefined) return { file, data: {} };
    if (typeof data !== 'object' || Array.isArray(data)) {
      throw new KumoError('invalid_manifest', `${file}: must be a mapping of fields like "name: greet"`);
    }
    return { file, data: data as Record<string, unknown> };
  }
  return { file: undefined, data: {} };
}

/** Validates manifest data with the flags merged over it (env merges key by key; flags win). */
export function resolveSpec(
  data: Record<string, unknown>,
  overrides: DeployOverrides,
  source = 'kumo.yaml',
): FunctionSpec {
  const merged: Record<string, unknown> = { ...data };
  for (const key of ['name', 'handler', 'memory', 'timeout', 'cpu', 'maxProcesses', 'tmpSize'] as const) {
    if (overrides[key] !== undefined) merged[key] = overrides[key];
  }
  if (overrides.env && Object.keys(overrides.env).length) {
    const base =
      typeof data.env === 'object' && data.env !== null && !Array.isArray(data.env) ? data.env : {};
    merged.env = { ...base, ...overrides.env };
  }
  return toFunctionSpec(parseManifest(merged, source), undefined);
}
