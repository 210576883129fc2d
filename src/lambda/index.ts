/**
 * lambda: AWS Lambda's HTTP API at kumo's own address, for unmodified AWS SDKs and CLIs.
 *   routes.ts      every operation (path, scope), the one list
 *   operation.ts   the pipeline of a request: body → SigV4 (auth/aws-keys.ts) → scope → handler
 *   invoke.ts      Invoke, InvokeWithResponseStream (event-stream.ts), Event, DryRun, Tail
 *   functions.ts   Create/Update/Delete/Get/List functions, PublishVersion, ListVersionsByFunction
 *   aliases.ts     Create/Update/Get/Delete/List aliases (kumo's aliases, api/alias-service.ts)
 *   shapes.ts      FunctionConfiguration, AliasConfiguration, ARNs, kumoRuntime()
 *   errors.ts      kumo's error codes → Lambda's error names and shape
 * May import core, http, auth (types), api, build, gateway, queue, store.
 */
export { lambdaRoutes, type LambdaApiDeps } from './routes.ts';
export { kumoRuntime, parseFunctionName } from './shapes.ts';
