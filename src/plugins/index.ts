/** plugins: the host API `call(plugin, action, payload)` and the built-in kv and docs plugins. */
export type * from './plugin.ts';
export { PluginRegistry } from './registry.ts';
export {
  PluginHost,
  HOST_SOCKET_NAME,
  type HostChannel,
  type ChannelTarget,
  type PluginHostDeps,
} from './plugin-host.ts';
export { kvPlugin } from './kv.ts';
export { docsPlugin } from './docs.ts';
export { DOCS_SCAN_WORKER, DocsScanner, type DocScan, type DocsScannerOptions } from './docs-scanner.ts';
export { RawJson } from './plugin.ts';
export { matches } from './doc-query.ts';
