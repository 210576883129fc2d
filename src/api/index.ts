/** api: the control plane (deploy, list, versions, rollback, logs, keys, history, …), each route declared once. */
export { API_PREFIX, controlRoutes, type ControlApiDeps } from './control-api.ts';
export { AliasService, type AliasInput, type AliasWriteMode } from './alias-service.ts';
export { DeployService, type DeployResult, type DeployServiceDeps } from './deploy-service.ts';
export { SourceDeployer, type SourceDeployResult, type SourceDeployerDeps } from './source-deploy.ts';
export { openApiDocument } from './openapi.ts';
export type { FunctionInfo } from './routes/functions.ts';
export type { AccessRoutesDeps } from './routes/access.ts';
