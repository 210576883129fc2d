/**
 * `call(plugin, action, payload)` for node functions: a global the node shim installs, returning a
 * promise of the plugin's result (`await call('kv', 'get', { key })`). It goes over the host
 * channel; without one (no plugins listed) it rejects with plugin_not_allowed.
 */
import { HostClient } from './host-client.ts';

/** Defines `call` on `target` (globalThis), over the host channel at `hostSocket` ('' for none). */
export function installPluginCall(
  target: object,
  hostSocket: string,
  invocationId: () => string | undefined,
): void {
  const client = new HostClient(hostSocket || undefined);
  const call = (plugin: string, action: string, payload?: unknown): Promise<unknown> =>
    client.call(String(plugin), String(action), payload, invocationId());
  Object.defineProperty(target, 'call', {
    value: call,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
