/** runtimes: one folder per language; the shim that runs inside an instance and its build. */
export type * from './runtime.ts';
export { nodeRuntime } from './node/index.ts';
