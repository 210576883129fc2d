/** drivers: isolation tiers behind one Driver interface. */
export type * from './driver.ts';
export type { Sandbox, SandboxPlan } from './process/sandbox.ts';
export { ProcessDriver, describeExit } from './process/process-driver.ts';
export { NoSandbox } from './process/no-sandbox.ts';
export { ownedTempDir, sweepTempDirs } from './process/leftovers.ts';
export { BubblewrapSandbox, SANDBOX_DEFAULTS } from './process/bwrap/bubblewrap-sandbox.ts';
export type { BubblewrapSandboxOptions, SandboxDefaults } from './process/bwrap/bubblewrap-sandbox.ts';
export { probeHost, canSandbox, sandboxProblems, probeCapabilities } from './process/bwrap/host-probe.ts';
export { HostIds, parseIdRange, DEFAULT_ID_RANGE } from './process/bwrap/host-ids.ts';
export type { IdRange } from './process/bwrap/host-ids.ts';
export type { HostProbe, ProbeOptions, ProbeResult } from './process/bwrap/host-probe.ts';
