/**
 * The contract suites every store backend passes, one per interface (like hono's
 * src/router/common.case.test.ts for its routers). A backend's test file calls
 * describeStoreContracts with a function that opens fresh, empty stores.
 */
import { describeAccessStoresContract } from './access-stores.ts';
import { describeAliasStoresContract } from './alias-stores.ts';
import { describeApiRouteStoreContract } from './api-route-store.ts';
import { describeClusterStoreContract } from './cluster-store.ts';
import { describeFunctionStoreContract } from './function-store.ts';
import { describeInvocationStoreContract } from './invocation-store.ts';
import { describePluginStoreContract } from './plugin-store.ts';
import { describeQueueStoreContract } from './queue-store.ts';
import { describeScheduleStoreContract } from './schedule-store.ts';
import type { OpenStores } from './support.ts';

export {
  describeAccessStoresContract,
  describeAliasStoresContract,
  describeApiRouteStoreContract,
  describeClusterStoreContract,
  describeFunctionStoreContract,
  describeInvocationStoreContract,
  describePluginStoreContract,
  describeQueueStoreContract,
  describeScheduleStoreContract,
};
export type { OpenStores };

/** Every suite, against the backend `open` opens. */
export function describeStoreContracts(open: OpenStores): void {
  describeFunctionStoreContract(open);
  describeInvocationStoreContract(open);
  describeQueueStoreContract(open);
  describeScheduleStoreContract(open);
  describeAccessStoresContract(open);
  describePluginStoreContract(open);
  describeAliasStoresContract(open);
  describeApiRouteStoreContract(open);
  describeClusterStoreContract(open);
}
