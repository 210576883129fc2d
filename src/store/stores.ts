/**
 * Every store of one server, opened together on one backend (sqlite/stores.ts today). A backend
 * is one implementation of each interface here, passing the suites in contract/.
 */
import type { AuditStore, KeyStore, SecretStore } from './access.ts';
import type { AliasStore, AwsCredentialStore } from './aliases.ts';
import type { ApiRouteStore } from './api-routes.ts';
import type { ClusterStore } from './cluster.ts';
import type { FunctionStore } from './functions.ts';
import type { InvocationStore } from './invocations.ts';
import type { PluginStore } from './plugin-store.ts';
import type { QueueStore } from './queue.ts';
import type { ScheduleStore } from './schedules.ts';

/** The stores of a server, split by concern. */
export interface Stores {
  functions: FunctionStore;
  invocations: InvocationStore;
  queue: QueueStore;
  schedules: ScheduleStore;
  keys: KeyStore;
  secrets: SecretStore;
  audit: AuditStore;
  plugins: PluginStore;
  aliases: AliasStore;
  awsCredentials: AwsCredentialStore;
  /** API routes (`METHOD /path` → function), served under /routes. */
  apiRoutes: ApiRouteStore;
  /** What the nodes of one store share: change feed, builds, leases, cron ticks. */
  cluster: ClusterStore;
  /** Closes the backend (every store above) once; later calls do nothing. */
  close(): Promise<void>;
}
