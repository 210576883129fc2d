/**
 * The function operations: CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
 * DeleteFunction, GetFunction, GetFunctionConfiguration, ListFunctions, PublishVersion,
 * ListVersionsByFunction. A Lambda function is a kumo function; its code and settings become a
 * kumo bundle whose kumo.yaml says runtime, handler, memory, timeout and environment, deployed
 * by kumo's one DeployService (build in the sandbox, proof that it starts, version N+1).
 *
 * Versions: every code or configuration change is a new immutable kumo version that `$LATEST`
 * (the active version) then runs; PublishVersion answers with the version `$LATEST` runs.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import type { DeployService } from '../api/index.ts';
import {
  extractBundle,
  extractZip,
  isZip,
  MANIFEST_FILES,
  packDirectory,
  readManifestFile,
} from '../build/index.ts';
import { KumoError, type VersionRecord } from '../core/index.ts';
import type { ActiveVersions, FunctionStore } from '../store/index.ts';
import { invalidParameter, LambdaApiError } from './errors.ts';
import { answer, parseBody as parse, type LambdaContext } from './operation.ts';
import { functionConfiguration, kumoRuntime, parseFunctionName } from './shapes.ts';

/** What the function operations need. */
export interface FunctionOpsDeps {
  store: FunctionStore;
  versions: ActiveVersions;
  deployer: DeployService;
  dataDir: string;
  urls: (name: string) => { url: string; path: string };
}

const environment = z.strictObject({ Variables: z.record(z.string(), z.string()).optional() }).optional();

/** CreateFunction's body (fields kumo does not use are accepted and ignored: Role, Tags, …). */
const createBody = z.looseObject({
  FunctionName: z.string().min(1).max(140),
  Runtime: z.string().max(40).optional(),
  Handler: z.string().max(128).optional(),
  Description: z.string().max(256).optional(),
  Timeout: z.int().min(1).max(900).optional(),
  MemorySize: z.int().min(128).max(10240).optional(),
  Environment: environment,
  PackageType: z.enum(['Zip', 'Image']).optional(),
  Publish: z.boolean().optional(),
  Code: z.looseObject({
    ZipFile: z.string().optional(),
    S3Bucket: z.string().optional(),
    ImageUri: z.string().optional(),
  }),
});

const updateCodeBody = z.looseObject({
  ZipFile: z.string().optional(),
  S3Bucket: z.string().optional(),
  ImageUri: z.string().optional(),
  Publish: z.boolean().optional(),
  DryRun: z.boolean().optional(),
});

const updateConfigBody = z.looseObject({
  Runtime: z.string().max(40).optional(),
  Handler: z.string().max(128).optional(),
  Description: z.string().max(256).optional(),
  Timeout: z.int().min(1).max(900).optional(),
  MemorySize: z.int().min(128).max(10240).optional(),
  Environment: environment,
});

const publishBody = z.looseObject({
  CodeSha256: z.string().optional(),
  Description: z.string().optional(),
  RevisionId: z.string().optional(),
});

/** The settings a Lambda call gives, in kumo.yaml's terms. */
interface LambdaSettings {
  runtime?: string | undefined;
  handler?: string | undefined;
  description?: string | undefined;
  timeout?: number | undefined;
  memory?: number | undefined;
  env?: Record<string, string> | undefined;
  code?: { sha256: string; size: number } | undefined;
}

/** The function operations' handlers. */
export function functionOps(d: FunctionOpsDeps) {
  /** The version a name and qualifier address: `$LATEST` (or none) is the active one. */
  const versionOf = async (ctx: LambdaContext): Promise<{ v: VersionRecord; label: string }> => {
    const { name, qualifier } = parseFunctionName(ctx.params.name ?? '', ctx.query.get('Qualifier'));
    const fn = await d.store.getFunction(name);
    if (!fn) throw notFound(name, ctx.region);
    let number = fn.activeVersion;
    let label = '$LATEST';
    if (qualifier !== undefined && qualifier !== '$LATEST') {
      const alias = d.versions.aliases(name).find((a) => a.name === qualifier);
      number = alias ? alias.version : /^\d+$/.test(qualifier) ? Number(qualifier) : NaN;
      label = alias ? String(alias.version) : qualifier;
    }
    const v = Number.isInteger(number) ? await d.store.getVersion(name, number) : undefined;
    if (!v) throw notFound(`${name}:${qualifier ?? ''}`, ctx.region);
    return { v, label };
  };
  const config = (ctx: LambdaContext, v: VersionRecord, label: string) =>
    functionConfiguration(v, ctx.region, label);

  return {
    create: async (ctx: LambdaContext) => {
      const body = parse(createBody, ctx.body, 'CreateFunction');
      if (body.PackageType === 'Image' || body.Code.ImageUri)
        throw invalidParameter('kumo deploys zip packages only (PackageType Zip, Code.ZipFile)');
      if (body.Code.ZipFile === undefined)
        throw invalidParameter('Code.ZipFile is required: kumo takes the zip in the request, not from S3');
      if (!body.Runtime) throw invalidParameter('Runtime is required for a zip package');
      const { name } = parseFunctionName(body.FunctionName, null);
      if (await d.store.getFunction(name))
        throw new LambdaApiError('ResourceConflictException', 409, `Function already exist: ${name}`);
      const zip = decodeZip(body.Code.ZipFile);
      const v = await deployZip(d, name, zip, {
        runtime: body.Runtime,
        handler: body.Handler,
        description: body.Description,
        timeout: body.Timeout,
        memory: body.MemorySize,
        env: body.Environment?.Variables ?? {},
        code: codeOf(zip),
      });
      answer(ctx, 201, config(ctx, v, body.Publish ? String(v.version) : '$LATEST'));
    },
    updateCode: async (ctx: LambdaContext) => {
      const body = parse(updateCodeBody, ctx.body, 'UpdateFunctionCode');
      if (body.ImageUri || body.ZipFile === undefined)
        throw invalidParameter('ZipFile is required: kumo takes the zip in the request');
      const { v: current } = await versionOf({ ...ctx, query: new URLSearchParams() });
      const zip = decodeZip(body.ZipFile);
      if (body.DryRun) return answer(ctx, 200, config(ctx, current, '$LATEST'));
      const v = await deployZip(d, current.function, zip, { ...settingsOf(current), code: codeOf(zip) });
      answer(ctx, 200, config(ctx, v, body.Publish ? String(v.version) : '$LATEST'));
    },
    updateConfiguration: async (ctx: LambdaContext) => {
      const body = parse(updateConfigBody, ctx.body, 'UpdateFunctionConfiguration');
      const { v: current } = await versionOf({ ...ctx, query: new URLSearchParams() });
      const archive = await readFile(path.join(d.dataDir, 'bundles', `${current.bundleHash}.tar.gz`));
      const v = await redeploy(d, current, archive, {
        ...settingsOf(current),
        ...defined({
          runtime: body.Runtime,
          handler: body.Handler,
          description: body.Description,
          timeout: body.Timeout,
          memory: body.MemorySize,
          env: body.Environment ? (body.Environment.Variables ?? {}) : undefined,
        }),
      });
      answer(ctx, 200, config(ctx, v, '$LATEST'));
    },
    remove: async (ctx: LambdaContext) => {
      const { name, qualifier } = parseFunctionName(ctx.params.name ?? '', ctx.query.get('Qualifier'));
      if (qualifier !== undefined && qualifier !== '$LATEST')
        throw invalidParameter('kumo deletes whole functions: call DeleteFunction without a Qualifier');
      if (!(await d.store.getFunction(name))) throw notFound(name, ctx.region);
      await d.deployer.remove(name);
      ctx.res.writeHead(204, { 'x-amzn-requestid': ctx.requestId });
      ctx.res.end();
    },
    get: async (ctx: LambdaContext) => {
      const { v, label } = await versionOf(ctx);
      answer(ctx, 200, {
        Configuration: config(ctx, v, label),
        Code: { RepositoryType: 'kumo', Location: d.urls(v.function).url },
        Tags: {},
      });
    },
    getConfiguration: async (ctx: LambdaContext) => {
      const { v, label } = await versionOf(ctx);
      answer(ctx, 200, config(ctx, v, label));
    },
    list: async (ctx: LambdaContext) => {
      const max = pageSize(ctx.query.get('MaxItems'));
      const marker = ctx.query.get('Marker') ?? '';
      const names = (await d.store.listFunctions())
        .map((f) => f.name)
        .filter((n) => n > marker)
        .sort();
      const page = names.slice(0, max);
      const functions = [];
      for (const name of page) {
        const active = d.versions.get(name);
        const v = active ? await d.store.getVersion(name, active.version) : undefined;
        if (v) functions.push(config(ctx, v, '$LATEST'));
      }
      const more = names.length > page.length;
      answer(ctx, 200, { Functions: functions, ...(more ? { NextMarker: page[page.length - 1] } : {}) });
    },
    publish: async (ctx: LambdaContext) => {
      const body = parse(publishBody, ctx.body, 'PublishVersion');
      const { v } = await versionOf({ ...ctx, query: new URLSearchParams() });
      const shown = config(ctx, v, String(v.version));
      if (body.CodeSha256 && body.CodeSha256 !== shown.CodeSha256)
        throw new LambdaApiError(
          'PreconditionFailedException',
          412,
          `CodeSha256 ${body.CodeSha256} is not the code of $LATEST (${shown.CodeSha256})`,
        );
      answer(ctx, 201, shown);
    },
    listVersions: async (ctx: LambdaContext) => {
      const { v: latest } = await versionOf({ ...ctx, query: new URLSearchParams() });
      const max = pageSize(ctx.query.get('MaxItems'));
      const marker = Number(ctx.query.get('Marker') ?? 0) || 0;
      const all = (await d.store.listVersions(latest.function)).filter((v) => v.version > marker);
      const page = all.slice(0, max);
      const versions = [
        ...(marker ? [] : [config(ctx, latest, '$LATEST')]),
        ...page.map((v) => config(ctx, v, String(v.version))),
      ];
      const more = all.length > page.length;
      answer(ctx, 200, {
        Versions: versions,
        ...(more ? { NextMarker: String(page[page.length - 1]?.version) } : {}),
      });
    },
  };
}

/** The Lambda settings of a deployed version (what UpdateFunctionCode keeps). */
function settingsOf(v: VersionRecord): LambdaSettings {
  return {
    runtime: v.spec.lambda?.runtime,
    handler: v.spec.handler,
    description: v.spec.lambda?.description,
    timeout: Math.ceil(v.spec.timeout / 1000),
    memory: v.spec.memory,
    env: v.spec.env,
    ...(v.spec.lambda?.codeSha256
      ? { code: { sha256: v.spec.lambda.codeSha256, size: v.spec.lambda.codeSize ?? 0 } }
      : {}),
  };
}

/** Unpacks `zip` and deploys it as function `name` with `settings`. */
async function deployZip(
  d: FunctionOpsDeps,
  name: string,
  zip: Buffer,
  settings: LambdaSettings,
): Promise<VersionRecord> {
  return withFolder(d, async (dir) => {
    await extractZip(zip, dir, d.deployer.archiveLimits);
    return deployFolder(d, name, dir, settings);
  });
}

/** Deploys the stored bundle of `current` again with new settings. */
async function redeploy(
  d: FunctionOpsDeps,
  current: VersionRecord,
  archive: Buffer,
  settings: LambdaSettings,
) {
  return withFolder(d, async (dir) => {
    await extractBundle(archive, dir, d.deployer.archiveLimits);
    return deployFolder(d, current.function, dir, settings);
  });
}

/** Writes the settings into the folder's kumo.yaml (keeping its other fields) and deploys it. */
async function deployFolder(
  d: FunctionOpsDeps,
  name: string,
  dir: string,
  s: LambdaSettings,
): Promise<VersionRecord> {
  const { data } = await readManifestFile(dir);
  for (const file of MANIFEST_FILES) await rm(path.join(dir, file), { force: true });
  const manifest: Record<string, unknown> = { ...data, name };
  if (s.runtime) {
    manifest.runtime = kumoRuntime(s.runtime);
    // A Lambda handler is `handler(event, context)`: said outright, since its two parameters would read as (req, res).
    manifest.style = 'lambda';
  }
  if (s.handler !== undefined) manifest.handler = s.handler;
  if (s.timeout !== undefined) manifest.timeout = `${s.timeout}s`;
  if (s.memory !== undefined) manifest.memory = s.memory;
  if (s.env !== undefined) manifest.env = s.env;
  manifest.lambda = {
    ...(s.runtime ? { runtime: s.runtime } : {}),
    ...(s.description ? { description: s.description } : {}),
    ...(s.code ? { codeSha256: s.code.sha256, codeSize: s.code.size } : {}),
  };
  await writeFile(path.join(dir, 'kumo.yaml'), toYaml(manifest));
  const result = await d.deployer.deploy(await packDirectory(dir), {});
  const v = await d.store.getVersion(name, result.version);
  if (!v)
    throw new KumoError('internal_error', `version ${result.version} of ${name} vanished after its deploy`);
  return v;
}

async function withFolder<T>(d: FunctionOpsDeps, fn: (dir: string) => Promise<T>): Promise<T> {
  const root = path.join(d.dataDir, 'tmp');
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(path.join(root, 'lambda-'));
  try {
    const dir = path.join(work, 'src');
    await mkdir(dir);
    return await fn(dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A base64 zip (the SDK sends ZipFile as a base64 blob). */
function decodeZip(base64: string): Buffer {
  const zip = Buffer.from(base64, 'base64');
  if (!isZip(zip)) throw invalidParameter('Could not unzip uploaded file: ZipFile is not a zip archive');
  return zip;
}

function codeOf(zip: Buffer): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(zip).digest('base64'), size: zip.length };
}

function pageSize(raw: string | null): number {
  if (raw === null) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw invalidParameter('MaxItems must be between 1 and 10000');
  return n;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** ResourceNotFoundException as Lambda words it. */
export function notFound(name: string, region: string): KumoError {
  return new KumoError(
    'function_not_found',
    `Function not found: arn:aws:lambda:${region}:000000000000:function:${name}`,
  );
}
