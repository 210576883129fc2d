/**
 * Lambda's shapes from kumo's records: FunctionConfiguration, AliasConfiguration, ARNs, function
 * names as the API takes them (name, `name:qualifier`, partial or full ARN), and the one mapping
 * of Lambda runtime names to kumo runtimes (`kumoRuntime`).
 */
import type { AliasRecord, VersionRecord } from '../core/index.ts';
import { invalidParameter } from './errors.ts';

/** The account id in ARNs: kumo has no accounts, so it is a fixed placeholder. */
export const ACCOUNT_ID = '000000000000';

/** A function name as the API takes it, split into kumo's function and qualifier. */
export interface LambdaName {
  name: string;
  qualifier: string | undefined;
}

/**
 * `my-fn`, `my-fn:live`, `000000000000:function:my-fn[:live]` or
 * `arn:aws:lambda:REGION:ACCOUNT:function:my-fn[:live]`; a `Qualifier` query parameter must
 * agree with a qualifier in the name.
 */
export function parseFunctionName(raw: string, queryQualifier: string | null): LambdaName {
  const parts = raw.split(':');
  let name: string | undefined;
  let qualifier: string | undefined;
  if (parts[0] === 'arn' && parts.length >= 7 && parts[5] === 'function')
    [name, qualifier] = [parts[6], parts[7]];
  else if (parts.length >= 3 && parts[1] === 'function') [name, qualifier] = [parts[2], parts[3]];
  else if (parts.length <= 2) [name, qualifier] = [parts[0], parts[1]];
  if (!name || parts.length > 8)
    throw invalidParameter(`FunctionName ${JSON.stringify(raw.slice(0, 140))} is not a function name or ARN`);
  const q = queryQualifier ?? undefined;
  if (qualifier !== undefined && q !== undefined && qualifier !== q)
    throw invalidParameter(`the qualifier in FunctionName (${qualifier}) and Qualifier (${q}) differ`);
  return { name, qualifier: qualifier ?? q };
}

/** The function's ARN (with a qualifier: the version's or alias's). */
export function functionArn(region: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

/**
 * The kumo runtime of a Lambda runtime name: `nodejs*` → node, `python3*` → python,
 * `provided*` → provided (the Runtime API; refused by the deploy until that runtime exists).
 * The one place the mapping lives.
 */
export function kumoRuntime(lambdaRuntime: string): string {
  if (/^nodejs\d+(\.x)?$/.test(lambdaRuntime)) return 'node';
  if (/^python3(\.\d+)?$/.test(lambdaRuntime)) return 'python';
  if (/^provided(\.al2(023)?)?$/.test(lambdaRuntime)) return 'provided';
  throw invalidParameter(
    `Runtime ${JSON.stringify(lambdaRuntime.slice(0, 40))} is not supported by kumo: use nodejs*, python3* or provided*`,
  );
}

/** The Lambda runtime name a kumo function shows: what CreateFunction was told, else one for its kumo runtime. */
export function lambdaRuntime(v: VersionRecord): string {
  if (v.spec.lambda?.runtime) return v.spec.lambda.runtime;
  const shown: Record<string, string> = {
    node: 'nodejs24.x',
    python: 'python3.12',
    provided: 'provided.al2023',
  };
  return shown[v.spec.runtime] ?? v.spec.runtime;
}

/** Lambda's time format: `2024-01-31T12:00:00.000+0000`. */
export function lambdaTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A version's FunctionConfiguration (`$LATEST` when it is the active version asked for unqualified). */
export function functionConfiguration(v: VersionRecord, region: string, label: string) {
  return {
    FunctionName: v.function,
    FunctionArn: functionArn(region, v.function, label === '$LATEST' ? undefined : label),
    Runtime: lambdaRuntime(v),
    Role: `arn:aws:iam::${ACCOUNT_ID}:role/kumo`,
    Handler: v.spec.handler ?? '',
    CodeSize: v.spec.lambda?.codeSize ?? 0,
    Description: v.spec.lambda?.description ?? '',
    Timeout: Math.ceil(v.spec.timeout / 1000),
    MemorySize: v.spec.memory,
    LastModified: lambdaTime(v.createdAt),
    CodeSha256: v.spec.lambda?.codeSha256 ?? Buffer.from(v.bundleHash, 'hex').toString('base64'),
    Version: label,
    Environment: { Variables: { ...v.spec.env } },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: v.hash.replace(/^[a-z0-9]+:/, '').slice(0, 32),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    EphemeralStorage: { Size: v.spec.tmpSize },
  };
}

/** An alias as Lambda shows it. */
export function aliasConfiguration(a: AliasRecord, region: string) {
  return {
    AliasArn: functionArn(region, a.function, a.name),
    Name: a.name,
    FunctionVersion: String(a.version),
    Description: a.description,
    ...(a.canary
      ? { RoutingConfig: { AdditionalVersionWeights: { [String(a.canary.version)]: a.canary.weight } } }
      : {}),
    RevisionId: String(a.updatedAt),
  };
}
