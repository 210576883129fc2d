/** pool: instance lifecycle per function version. */
export { InstancePool, type InstancePoolOptions } from './instance-pool.ts';
export type { InstanceFactory, Lease, PoolEvent, PoolStats, PoolTarget } from './version-pool.ts';
