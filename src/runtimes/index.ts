/** runtimes: one folder per language; the shim that runs inside an instance and its build. */
export type * from './runtime.ts';
export { nodeRuntime } from './node/index.ts';
export { pythonRuntime } from './python/index.ts';
export { execRuntime } from './exec/index.ts';
export { luaRuntime } from './lua/index.ts';
export { providedRuntime } from './provided/index.ts';
export { LAMBDA_ACCOUNT, LAMBDA_REGION, functionArn } from './provided/launch.ts';
export { shimBundle } from './shim-bundle.ts';
export { NEUTRAL, Placement, taskDir, launchRecordFile } from './layout.ts';
export { buildJobPlan, type BuildJobOptions } from './build-job.ts';
export { writeLaunchRecord } from './launch-record.ts';
export { hostBuildTools } from './build-job.ts';
