/**
 * SAM templates (`template.yaml`, AWS::Serverless-2016-10-31): the one place kumo reads them.
 * Every `AWS::Serverless::Function` becomes a kumo function:
 *   CodeUri (a folder inside the source) → the bundle; Handler, Runtime (nodejs* → node,
 *   python3* → python, provided* → provided), MemorySize, Timeout, Environment.Variables →
 *   kumo.yaml; Globals.Function is merged under each function as SAM merges it (mappings merged,
 *   the function's own values winning);
 *   Events of type Schedule / ScheduleV2 → kumo cron schedules (rate() and cron() translated);
 *   Events of type Api / HttpApi → routes `METHOD /path` (store/routes.ts, served under /routes);
 *   AutoPublishAlias → a kumo alias on the deployed version.
 * Everything else is named in `ignored`, which the deploy answers with, so nothing is dropped
 * silently. Intrinsic functions are resolved where kumo can (Ref to a parameter's default or a
 * pseudo parameter, Fn::Sub, Fn::Join); a value kumo needs and cannot resolve is an error naming
 * the field, an environment variable it cannot resolve is left out and listed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  assertAliasName,
  assertApiRoute,
  FUNCTION_NAME,
  KumoError,
  type ApiRoute,
} from '../../core/index.ts';
import { LAMBDA_ACCOUNT, LAMBDA_REGION } from '../../runtimes/index.ts';
import { loadTemplate } from './sam-yaml.ts';
import { samSchedule } from './sam-schedule.ts';

/** The file names SAM looks for, in its order. */
export const SAM_TEMPLATE_FILES = ['template.yaml', 'template.yml', 'template.json'];

/** The transform that marks a SAM template. */
const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';

/** One route a template's Api/HttpApi event asks for (`{param}` and `{proxy+}` as API Gateway writes them). */
export type SamRoute = ApiRoute;

/** One function of a template, ready to deploy. */
export interface SamFunction {
  logicalId: string;
  name: string;
  /** The code folder, relative to the template's folder (normalised, never leaving it). */
  codeUri: string;
  /** kumo.yaml fields. */
  manifest: Record<string, unknown>;
  alias: string | undefined;
  routes: SamRoute[];
}

/** A read template. */
export interface SamTemplate {
  file: string;
  functions: SamFunction[];
  /** What kumo does not deploy, one line each (`HelloFunction.Policies`, …). */
  ignored: string[];
}

/** Properties of a function kumo reads. */
const READ = new Set([
  'CodeUri',
  'Handler',
  'Runtime',
  'MemorySize',
  'Timeout',
  'Environment',
  'Events',
  'AutoPublishAlias',
  'FunctionName',
]);

/** The template in `dir` (`file`, or SAM's default names), or undefined when there is none. */
export async function readSamTemplate(dir: string, file?: string): Promise<SamTemplate | undefined> {
  for (const name of file ? [file] : SAM_TEMPLATE_FILES) {
    const rel = path.posix.normalize(name);
    if (path.posix.isAbsolute(rel) || rel.startsWith('../') || rel === '..') {
      throw new KumoError(
        'invalid_manifest',
        `template ${JSON.stringify(name)} must be a file of the source`,
      );
    }
    let text: string;
    try {
      text = await readFile(path.join(dir, rel), 'utf8');
    } catch {
      if (file)
        throw new KumoError('invalid_manifest', `template ${JSON.stringify(name)} is not in the source`);
      continue;
    }
    const doc = loadTemplate(text, rel);
    if (!file && !isSam(doc)) return undefined;
    return parseTemplate(doc, rel, path.basename(dir));
  }
  return undefined;
}

function isSam(doc: unknown): boolean {
  const transform = (doc as { Transform?: unknown } | null)?.Transform;
  return transform === SAM_TRANSFORM || (Array.isArray(transform) && transform.includes(SAM_TRANSFORM));
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the functions of a parsed template. */
export function parseTemplate(doc: unknown, file: string, stackName: string): SamTemplate {
  const fail = (message: string): never => {
    throw new KumoError('invalid_manifest', `${file}: ${message}`);
  };
  if (!isObj(doc)) fail('must be a mapping with "Resources"');
  const top = doc as Obj;
  if (!isSam(top)) fail(`is not a SAM template (it needs "Transform: ${SAM_TRANSFORM}")`);
  const resources = top.Resources;
  if (!isObj(resources)) fail('"Resources" must be a mapping');
  const ctx = new Intrinsics(top, file, stackName);
  const ignored: string[] = [];
  for (const key of Object.keys(top))
    if (
      ![
        'AWSTemplateFormatVersion',
        'Transform',
        'Description',
        'Parameters',
        'Globals',
        'Resources',
      ].includes(key)
    )
      ignored.push(`${key} (not deployed by kumo)`);
  const globals = isObj(top.Globals) ? top.Globals : {};
  for (const key of Object.keys(globals)) if (key !== 'Function') ignored.push(`Globals.${key}`);
  const globalFunction = isObj(globals.Function) ? globals.Function : {};
  const functions: SamFunction[] = [];
  const names = new Map<string, string>();
  const routes = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(resources as Obj)) {
    const type = isObj(resource) ? resource.Type : undefined;
    if (type !== 'AWS::Serverless::Function') {
      ignored.push(
        `Resources.${logicalId} (${typeof type === 'string' ? type : 'no Type'}: kumo deploys functions only)`,
      );
      continue;
    }
    const own = isObj((resource as Obj).Properties) ? ((resource as Obj).Properties as Obj) : {};
    const props = mergeGlobals(globalFunction, own);
    const fn = readFunction(logicalId, props, ctx, ignored);
    const other = names.get(fn.name);
    if (other) fail(`${other} and ${logicalId} would both be the kumo function ${JSON.stringify(fn.name)}`);
    names.set(fn.name, logicalId);
    for (const r of fn.routes) {
      const key = `${r.method} ${r.path}`;
      const holder = routes.get(key);
      if (holder && holder !== logicalId) fail(`${holder} and ${logicalId} both ask for the route ${key}`);
      routes.set(key, logicalId);
    }
    functions.push(fn);
  }
  if (functions.length === 0) fail('has no AWS::Serverless::Function to deploy');
  return { file, functions, ignored };
}

/** SAM's Globals rule: the function's own value wins; mappings are merged key by key. */
function mergeGlobals(globals: Obj, own: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(globals)) setOwn(out, key, value);
  for (const [key, value] of Object.entries(own)) {
    const base = Object.hasOwn(out, key) ? out[key] : undefined;
    setOwn(out, key, isObj(base) && isObj(value) ? mergeGlobals(base, value) : value);
  }
  return out;
}

/** `obj[key] = value` as an own property, even for `__proto__` (a template is untrusted text). */
function setOwn(obj: Obj, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function readFunction(logicalId: string, props: Obj, ctx: Intrinsics, ignored: string[]): SamFunction {
  const at = `Resources.${logicalId}.Properties`;
  for (const key of Object.keys(props)) if (!READ.has(key)) ignored.push(`${logicalId}.${key}`);
  const name = functionName(logicalId, props.FunctionName, ctx, at);
  const runtime = kumoRuntime(ctx.string(props.Runtime, `${at}.Runtime`), `${at}.Runtime`, ctx.file);
  const manifest: Obj = { name, runtime };
  if (props.Handler !== undefined) manifest.handler = ctx.string(props.Handler, `${at}.Handler`);
  if (runtime === 'node' || runtime === 'python') manifest.style = 'lambda';
  if (props.MemorySize !== undefined) manifest.memory = ctx.number(props.MemorySize, `${at}.MemorySize`);
  if (props.Timeout !== undefined) manifest.timeout = ctx.number(props.Timeout, `${at}.Timeout`);
  const env = environment(props.Environment, ctx, `${at}.Environment`, logicalId, ignored);
  if (Object.keys(env).length) manifest.env = env;
  const alias =
    props.AutoPublishAlias === undefined
      ? undefined
      : assertAliasName(ctx.string(props.AutoPublishAlias, `${at}.AutoPublishAlias`));
  const events = readEvents(logicalId, props.Events, ctx, at, ignored);
  if (events.schedules.length) manifest.schedule = events.schedules;
  if (props.CodeUri === undefined)
    ctx.fail(`${at}.CodeUri is required: the folder of the function's code, relative to the template`);
  return {
    logicalId,
    name,
    codeUri: codeFolder(ctx.string(props.CodeUri, `${at}.CodeUri`), `${at}.CodeUri`, ctx),
    manifest,
    alias,
    routes: events.routes,
  };
}

/** The kumo name: FunctionName when it is one, else the logical id in kebab case. */
function functionName(logicalId: string, given: unknown, ctx: Intrinsics, at: string): string {
  const raw = given === undefined ? kebab(logicalId) : ctx.string(given, `${at}.FunctionName`).toLowerCase();
  if (!FUNCTION_NAME.test(raw)) {
    ctx.fail(
      `${given === undefined ? logicalId : `${at}.FunctionName`} gives the function name ${JSON.stringify(raw.slice(0, 80))}, which is not a DNS label (1-63 of a-z, 0-9 and "-"); set FunctionName`,
    );
  }
  return raw;
}

/** `HelloWorldFunction` → `hello-world-function`. */
export function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

function kumoRuntime(runtime: string, at: string, file: string): string {
  if (/^nodejs\d/.test(runtime)) return 'node';
  if (/^python3/.test(runtime)) return 'python';
  if (/^provided(\.al2|\.al2023)?$/.test(runtime)) return 'provided';
  throw new KumoError(
    'invalid_manifest',
    `${file}: ${at} ${JSON.stringify(runtime.slice(0, 40))} is not a runtime kumo runs (nodejs*, python3*, provided, provided.al2, provided.al2023)`,
  );
}

/** CodeUri as a folder relative to the template, never leaving the source. */
function codeFolder(uri: string, at: string, ctx: Intrinsics): string {
  if (/^[a-z0-9]+:\/\//i.test(uri))
    ctx.fail(
      `${at} ${JSON.stringify(uri.slice(0, 80))}: kumo deploys local code only (a folder next to the template)`,
    );
  const rel = path.posix.normalize(uri.replace(/\\/g, '/'));
  if (rel.includes('\0') || path.posix.isAbsolute(rel) || rel === '..' || rel.startsWith('../')) {
    ctx.fail(`${at} ${JSON.stringify(uri.slice(0, 80))} must be a folder inside the template's folder`);
  }
  return rel;
}

function environment(
  raw: unknown,
  ctx: Intrinsics,
  at: string,
  logicalId: string,
  ignored: string[],
): Record<string, string> {
  if (raw === undefined) return {};
  if (!isObj(raw)) ctx.fail(`${at} must be a mapping with "Variables"`);
  const envObj = raw as Obj;
  for (const key of Object.keys(envObj))
    if (key !== 'Variables') ignored.push(`${logicalId}.Environment.${key}`);
  const vars = envObj.Variables;
  if (vars === undefined) return {};
  if (!isObj(vars)) ctx.fail(`${at}.Variables must be a mapping`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(vars as Obj)) {
    if (key === '__proto__') {
      ignored.push(`${logicalId}.Environment.Variables.${key} (not a variable name kumo sets)`);
      continue;
    }
    const resolved = ctx.resolve(value, `${at}.Variables.${key}`);
    if (resolved === undefined) {
      ignored.push(
        `${logicalId}.Environment.Variables.${key} (${ctx.lastUnresolved}: not resolvable outside AWS)`,
      );
      continue;
    }
    if (typeof resolved === 'object' && resolved !== null)
      ctx.fail(`${at}.Variables.${key} must be a string`);
    out[key] = String(resolved);
  }
  return out;
}

/** What a function's Events become. */
interface ReadEvents {
  schedules: Obj[];
  routes: SamRoute[];
}

function readEvents(
  logicalId: string,
  raw: unknown,
  ctx: Intrinsics,
  at: string,
  ignored: string[],
): ReadEvents {
  const out: ReadEvents = { schedules: [], routes: [] };
  if (raw === undefined) return out;
  if (!isObj(raw)) ctx.fail(`${at}.Events must be a mapping`);
  for (const [eventId, event] of Object.entries(raw as Obj)) {
    const where = `${at}.Events.${eventId}`;
    const type = isObj(event) ? event.Type : undefined;
    const p = isObj(event) && isObj(event.Properties) ? event.Properties : {};
    if (type === 'Schedule' || type === 'ScheduleV2') {
      const schedule = samSchedule(type, p, ctx, where);
      if (schedule === undefined) ignored.push(`${logicalId}.Events.${eventId} (disabled)`);
      else out.schedules.push(schedule.entry);
      for (const key of schedule?.ignored ?? []) ignored.push(`${logicalId}.Events.${eventId}.${key}`);
    } else if (type === 'Api' || type === 'HttpApi') {
      out.routes.push(route(type, p, ctx, where));
      for (const key of Object.keys(p))
        if (!['Path', 'Method'].includes(key)) ignored.push(`${logicalId}.Events.${eventId}.${key}`);
    } else {
      ignored.push(
        `${logicalId}.Events.${eventId} (${typeof type === 'string' ? type : 'no Type'} events are not supported)`,
      );
    }
  }
  return out;
}

function route(type: string, p: Obj, ctx: Intrinsics, at: string): SamRoute {
  // An HttpApi event without Path and Method is the API's catch-all ($default).
  if (type === 'HttpApi' && p.Path === undefined && p.Method === undefined)
    return { method: 'ANY', path: '/{proxy+}' };
  const method = ctx.string(p.Method, `${at}.Properties.Method`);
  const routePath = ctx.string(p.Path, `${at}.Properties.Path`);
  // invalid_route, naming the method and path, for anything API Gateway would not take either.
  return assertApiRoute({ method, path: routePath });
}

/** CloudFormation's intrinsic functions that kumo does not resolve (they need AWS), by name. */
const KNOWN_UNRESOLVED = new Set([
  'Fn::GetAtt',
  'Fn::ImportValue',
  'Fn::GetAZs',
  'Fn::If',
  'Fn::FindInMap',
  'Fn::Select',
  'Fn::Split',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::Transform',
  'Fn::Length',
  'Fn::ToJsonString',
  'Condition',
]);

/** Resolution of the intrinsic functions kumo can evaluate without AWS. */
export class Intrinsics {
  readonly file: string;
  private readonly params: Obj;
  private readonly pseudo: Record<string, string>;
  /** The intrinsic that made the last `resolve` return undefined. */
  lastUnresolved = '';

  constructor(template: Obj, file: string, stackName: string) {
    this.file = file;
    this.params = isObj(template.Parameters) ? template.Parameters : {};
    this.pseudo = {
      'AWS::Region': LAMBDA_REGION,
      'AWS::AccountId': LAMBDA_ACCOUNT,
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${LAMBDA_REGION}:${LAMBDA_ACCOUNT}:stack/${stackName}/kumo`,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
  }

  fail(message: string): never {
    throw new KumoError('invalid_manifest', `${this.file}: ${message}`);
  }

  /** The value with intrinsics resolved; undefined when one needs AWS (an unknown one throws). */
  resolve(value: unknown, at: string): unknown {
    if (Array.isArray(value)) {
      const items = value.map((v, i) => this.resolve(v, `${at}.${i}`));
      return items.includes(undefined) ? undefined : items;
    }
    if (!isObj(value)) return value;
    const keys = Object.keys(value);
    const fn = keys.length === 1 ? (keys[0] as string) : '';
    if (fn === 'Ref') return this.ref(value.Ref, at);
    if (fn === 'Fn::Sub') return this.sub(value['Fn::Sub'], at);
    if (fn === 'Fn::Join') return this.join(value['Fn::Join'], at);
    if (KNOWN_UNRESOLVED.has(fn)) {
      this.lastUnresolved = fn;
      return undefined;
    }
    if (fn.startsWith('Fn::') || keys.some((k) => k.startsWith('Fn::'))) {
      this.fail(
        `${at} uses ${JSON.stringify(fn.slice(0, 60) || keys.join(','))}, which is not a CloudFormation intrinsic function`,
      );
    }
    const out: Obj = {};
    for (const key of keys) {
      const v = this.resolve(value[key], `${at}.${key}`);
      if (v === undefined) return undefined;
      setOwn(out, key, v);
    }
    return out;
  }

  /** A value kumo must have as text. */
  string(value: unknown, at: string): string {
    const resolved = this.needed(value, at);
    if (typeof resolved !== 'string' && typeof resolved !== 'number') this.fail(`${at} must be a string`);
    return String(resolved);
  }

  /** A value kumo must have as a number. */
  number(value: unknown, at: string): number {
    const resolved = this.needed(value, at);
    const n = typeof resolved === 'string' && resolved.trim() !== '' ? Number(resolved) : resolved;
    if (typeof n !== 'number' || !Number.isFinite(n))
      this.fail(`${at} must be a number (got ${JSON.stringify(resolved)?.slice(0, 40)})`);
    return n as number;
  }

  private needed(value: unknown, at: string): unknown {
    if (value === undefined || value === null) this.fail(`${at} is required`);
    const resolved = this.resolve(value, at);
    if (resolved === undefined)
      this.fail(
        `${at} uses ${this.lastUnresolved}, which kumo cannot resolve (it needs AWS); write the value`,
      );
    return resolved;
  }

  private ref(name: unknown, at: string): unknown {
    if (typeof name !== 'string') this.fail(`${at}: Ref takes a name`);
    const n = name as string;
    if (Object.hasOwn(this.pseudo, n)) return this.pseudo[n];
    const param = Object.hasOwn(this.params, n) ? this.params[n] : undefined;
    if (isObj(param)) {
      if (param.Default === undefined)
        this.fail(`${at}: parameter ${n} has no Default (kumo deploys without parameter overrides)`);
      return param.Default;
    }
    // A Ref to a resource names something AWS would create.
    this.lastUnresolved = `Ref ${n}`;
    return undefined;
  }

  private sub(arg: unknown, at: string): unknown {
    const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, {}];
    if (typeof text !== 'string') this.fail(`${at}: Fn::Sub takes a string (or [string, variables])`);
    const values = isObj(vars) ? vars : {};
    let unresolved = false;
    const out = (text as string).replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      const v = Object.hasOwn(values, name)
        ? this.resolve(values[name], `${at}.${name}`)
        : this.ref(name, at);
      if (v === undefined || typeof v === 'object') {
        unresolved = true;
        return '';
      }
      return String(v);
    });
    return unresolved ? undefined : out.replace(/\$\{!/g, '${');
  }

  private join(arg: unknown, at: string): unknown {
    if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1]))
      this.fail(`${at}: Fn::Join takes [delimiter, [values]]`);
    const [delimiter, list] = arg as [string, unknown[]];
    const parts = list.map((v, i) => this.resolve(v, `${at}.${i}`));
    if (parts.some((p) => p === undefined || typeof p === 'object')) return undefined;
    return parts.join(delimiter);
  }
}
