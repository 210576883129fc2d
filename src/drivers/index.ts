/** drivers: isolation tiers behind one Driver interface. */
export type * from './driver.ts';
export type { Sandbox, SandboxPlan } from './process/sandbox.ts';
export { ProcessDriver, describeExit } from './process/process-driver.ts';
export { NoSandbox } from './process/no-sandbox.ts';
