/**
 * The composition root: `kumo up`'s configuration (config/), the parts built once and wired
 * (start.ts), the instance factory (instance-factory.ts), the route table (routes.ts) and the
 * listener (listener.ts). Nothing else in kumo imports from here but main.ts and the tests.
 */
export { startServer, type RunningServer } from './start.ts';
export { parseServerConfig, UP_USAGE, type ServerConfig } from './config/index.ts';
