/**
 * THE LAMBDA API's OPERATIONS: every path of AWS Lambda's REST API that kumo answers, each
 * declared once with the kumo scope it needs. They join kumo's route table (server/routes.ts)
 * with the requirement `aws`; operation.ts runs each request: body → SigV4 → scope → handler.
 */
import type { AliasService, DeployService } from '../api/index.ts';
import type { Route } from '../http/index.ts';
import type { FunctionStore } from '../store/index.ts';
import { aliasOps } from './aliases.ts';
import { functionOps } from './functions.ts';
import { invoke, type InvokeDeps } from './invoke.ts';
import { lambdaRoute, type Authenticate, type LambdaOperation } from './operation.ts';

/** What the Lambda API needs. */
export interface LambdaApiDeps extends InvokeDeps {
  deployer: DeployService;
  aliases: AliasService;
  authenticate: Authenticate;
  dataDir: string;
  /** Largest invoke payload (the sync body limit). */
  bodyLimit: number;
  /** Largest CreateFunction / UpdateFunctionCode body (a base64 zip in JSON). */
  uploadLimit: number;
  urls: (name: string) => { url: string; path: string };
  store: FunctionStore;
  /** Logs an unexpected failure (the answer is a ServiceException). */
  log: (err: unknown, operation: string) => void;
}

const V = '/2015-03-31/functions';
const SMALL = 256 * 1024;

/** The Lambda API's routes. */
export function lambdaRoutes(d: LambdaApiDeps): Route[] {
  const fns = functionOps(d);
  const aliases = aliasOps(d);
  // Base64 grows a zip by 4/3; the JSON around it is small.
  const upload = Math.ceil((d.uploadLimit * 4) / 3) + 64 * 1024;
  const ops: LambdaOperation[] = [
    op('ListFunctions', 'GET', V, 'read', 0, 'the functions, 50 a page (Marker, MaxItems)', fns.list),
    op(
      'CreateFunction',
      'POST',
      V,
      'deploy',
      upload,
      'deploy a zip (Code.ZipFile) with Runtime nodejs*, python3* or provided*, Handler, MemorySize, Timeout, Environment',
      fns.create,
    ),
    op('GetFunction', 'GET', `${V}/:name`, 'read', 0, 'a function (Qualifier: version or alias)', fns.get),
    op(
      'DeleteFunction',
      'DELETE',
      `${V}/:name`,
      'deploy',
      0,
      'delete a function with its versions and aliases',
      fns.remove,
    ),
    op(
      'GetFunctionConfiguration',
      'GET',
      `${V}/:name/configuration`,
      'read',
      0,
      "a version's settings",
      fns.getConfiguration,
    ),
    op(
      'UpdateFunctionConfiguration',
      'PUT',
      `${V}/:name/configuration`,
      'deploy',
      SMALL,
      'new settings: a new version',
      fns.updateConfiguration,
    ),
    op(
      'UpdateFunctionCode',
      'PUT',
      `${V}/:name/code`,
      'deploy',
      upload,
      'new code (ZipFile): a new version',
      fns.updateCode,
    ),
    op(
      'Invoke',
      'POST',
      `${V}/:name/invocations`,
      'invoke',
      d.bodyLimit,
      "RequestResponse, Event (kumo's durable queue) or DryRun; LogType Tail",
      (ctx) => invoke(d, ctx, false),
    ),
    op(
      'PublishVersion',
      'POST',
      `${V}/:name/versions`,
      'deploy',
      SMALL,
      'the version $LATEST runs (every change is a version already)',
      fns.publish,
    ),
    op(
      'ListVersionsByFunction',
      'GET',
      `${V}/:name/versions`,
      'read',
      0,
      '$LATEST and every version',
      fns.listVersions,
    ),
    op(
      'CreateAlias',
      'POST',
      `${V}/:name/aliases`,
      'deploy',
      SMALL,
      'an alias, with RoutingConfig.AdditionalVersionWeights as a canary',
      aliases.create,
    ),
    op('ListAliases', 'GET', `${V}/:name/aliases`, 'read', 0, "a function's aliases", aliases.list),
    op('GetAlias', 'GET', `${V}/:name/aliases/:alias`, 'read', 0, 'one alias', aliases.get),
    op(
      'UpdateAlias',
      'PUT',
      `${V}/:name/aliases/:alias`,
      'deploy',
      SMALL,
      'change an alias in one atomic write',
      aliases.update,
    ),
    op('DeleteAlias', 'DELETE', `${V}/:name/aliases/:alias`, 'deploy', 0, 'delete an alias', aliases.remove),
    op(
      'InvokeWithResponseStream',
      'POST',
      '/2021-11-15/functions/:name/response-streaming-invocations',
      'invoke',
      d.bodyLimit,
      'the answer as an event stream while it arrives',
      (ctx) => invoke(d, ctx, true),
    ),
  ];
  return ops.map((o) => lambdaRoute(o, d.authenticate, d.log));
}

function op(
  name: string,
  method: LambdaOperation['method'],
  path: string,
  scope: LambdaOperation['scope'],
  bodyLimit: number,
  summary: string,
  handler: LambdaOperation['handler'],
): LambdaOperation {
  return { name, method, path, scope, bodyLimit, summary, handler };
}
