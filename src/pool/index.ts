/** pool: instance lifecycle per function version. */
export { InstancePool, type InstancePoolOptions } from './instance-pool.ts';
export { HostCpu } from './host-cpu.ts';
export type { InstanceFactory, Lease, PoolEvent, PoolStats, PoolTarget } from './version-pool.ts';
export { brokenLeaseFailure, limitFailure, type InstanceFailure } from './failure.ts';
/** What a lease hands out, for the proxy that talks to it (the drivers stay behind the pool). */
export type { Instance, LimitViolation } from '../drivers/index.ts';
