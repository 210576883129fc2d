/**
 * From an extracted source folder to the kumo functions it deploys as ("units"): a kumo.yaml
 * folder is one unit as is; a `run.json` folder is translated; an `.eserveless.yaml` project is
 * one unit per function; a folder with no manifest gets its runtime detected. Each unit is a
 * folder holding a kumo.yaml that DeployService reads like any other.
 */
import { cp, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { readManifestFile } from '../manifest-file.ts';
import { detectRuntime } from './detect.ts';
import { readEserveless } from './eserveless.ts';
import { translateRunJson } from './run-json.ts';
import { readSamTemplate, type SamRoute, type SamTemplate } from './sam.ts';
import { KumoError } from '../../core/index.ts';

/** One kumo function to deploy from a source. */
export interface Unit {
  dir: string;
  /** Whether the folder was changed (an unchanged folder may deploy from the original upload). */
  rewritten: boolean;
  /** The function name when the source settles it (projects). */
  name: string | undefined;
  /** SAM AutoPublishAlias: the alias to point at the deployed version. */
  alias?: string;
  /** SAM Api/HttpApi events: the routes of this function. */
  routes?: SamRoute[];
}

/** The deployment plan of a source. */
export interface Plan {
  kind: 'function' | 'project';
  /** The manifest the plan came from (kumo.yaml, run.json, .eserveless.yaml or none). */
  format: string;
  units: Unit[];
  /** What the source asks for that kumo does not deploy (SAM templates), one line each. */
  ignored?: string[];
}

/** Manifest fields set by deploy options that have no flag of DeployService (e.g. lua limits). */
export type ExtraFields = Record<string, unknown>;

/**
 * Plans `dir`; `workDir` receives the per-function copies of a project. `fallbackName` names a
 * single function whose manifest does not (a repository's or archive's name).
 */
export async function planSource(
  dir: string,
  workDir: string,
  extra: ExtraFields,
  fallbackName: string | undefined,
  template?: string,
): Promise<Plan> {
  if (template !== undefined) {
    const sam = await readSamTemplate(dir, template);
    if (sam) return planSam(dir, workDir, sam, extra);
  }
  const project = await readEserveless(dir, undefined);
  if (project) {
    const units: Unit[] = [];
    for (const fn of project.functions) {
      const unitDir = path.join(workDir, `fn-${fn.name}`);
      await cp(dir, unitDir, { recursive: true, verbatimSymlinks: true });
      await mkdir(path.dirname(path.join(unitDir, fn.entry.path)), { recursive: true });
      await writeFile(path.join(unitDir, fn.entry.path), fn.entry.content);
      await writeManifest(unitDir, { ...fn.manifest, ...extra });
      units.push({ dir: unitDir, rewritten: true, name: fn.name });
    }
    return { kind: 'project', format: project.file, units };
  }
  const { file, data } = await readManifestFile(dir);
  const named = fallbackName && data.name === undefined ? { name: fallbackName } : {};
  if (file) {
    const additions: Record<string, unknown> = { ...named, ...extra };
    if (data.runtime === undefined) {
      const runtime = await detectRuntime(dir);
      if (runtime !== 'node') additions.runtime = runtime;
    }
    if (Object.keys(additions).length === 0)
      return { kind: 'function', format: file, units: [{ dir, rewritten: false, name: undefined }] };
    await writeManifest(dir, mergeManifest(data, additions), file);
    return { kind: 'function', format: file, units: [{ dir, rewritten: true, name: undefined }] };
  }
  const sam = await readSamTemplate(dir);
  if (sam) return planSam(dir, workDir, sam, extra);
  const translated = await translateRunJson(dir);
  if (translated) {
    await writeManifest(dir, { ...named, ...translated, ...extra });
    return { kind: 'function', format: 'run.json', units: [{ dir, rewritten: true, name: undefined }] };
  }
  const runtime = await detectRuntime(dir);
  const fields = runtime === 'node' ? { ...named, ...extra } : { ...named, runtime, ...extra };
  if (Object.keys(fields).length === 0)
    return { kind: 'function', format: 'none', units: [{ dir, rewritten: false, name: undefined }] };
  await writeManifest(dir, fields);
  return { kind: 'function', format: 'none', units: [{ dir, rewritten: true, name: undefined }] };
}

/** One unit per function of a SAM template: a copy of its CodeUri folder with a generated kumo.yaml. */
async function planSam(dir: string, workDir: string, sam: SamTemplate, extra: ExtraFields): Promise<Plan> {
  const root = await realpath(dir);
  const units: Unit[] = [];
  for (const fn of sam.functions) {
    const code = await codeDir(root, fn.codeUri, `${sam.file}: Resources.${fn.logicalId}.Properties.CodeUri`);
    const unitDir = path.join(workDir, `fn-${fn.name}`);
    await cp(code, unitDir, { recursive: true, verbatimSymlinks: true });
    await writeManifest(unitDir, { ...fn.manifest, ...extra });
    units.push({
      dir: unitDir,
      rewritten: true,
      name: fn.name,
      ...(fn.alias !== undefined ? { alias: fn.alias } : {}),
      routes: fn.routes,
    });
  }
  return { kind: 'project', format: sam.file, units, ignored: sam.ignored };
}

/** The real folder a CodeUri names; it must stay inside the source once symlinks are resolved. */
async function codeDir(root: string, rel: string, what: string): Promise<string> {
  const real = await realpath(path.join(root, rel)).catch(() => undefined);
  if (real === undefined)
    throw new KumoError('invalid_manifest', `${what} ${JSON.stringify(rel)}: no such folder in the source`);
  const inside = path.relative(root, real);
  if (inside.startsWith('..') || path.isAbsolute(inside))
    throw new KumoError(
      'invalid_manifest',
      `${what} ${JSON.stringify(rel)} leaves the template's folder (through a symlink)`,
    );
  if (!(await stat(real)).isDirectory())
    throw new KumoError(
      'invalid_manifest',
      `${what} ${JSON.stringify(rel)} must be a folder (kumo does not unpack zip CodeUris)`,
    );
  return real;
}

/** `additions` over `data`, merging one level deep (so `lua.maxmem` keeps `lua.timeout`). */
function mergeManifest(
  data: Record<string, unknown>,
  additions: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const [key, value] of Object.entries(additions)) {
    const current = out[key];
    const bothObjects =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current);
    out[key] = bothObjects
      ? { ...(current as Record<string, unknown>), ...(value as Record<string, unknown>) }
      : value;
  }
  return out;
}

async function writeManifest(dir: string, data: Record<string, unknown>, file = 'kumo.yaml'): Promise<void> {
  await writeFile(path.join(dir, file), `# generated by kumo from the source's manifest\n${stringify(data)}`);
}
