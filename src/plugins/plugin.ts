/**
 * The plugin contract: a named set of actions a function reaches with `call(plugin, action,
 * payload)`. The platform checks that the caller lists the plugin before a plugin sees a call, and
 * tells it which function calls, so a plugin can namespace its data per function.
 */
import type { PluginQuotas } from '../core/index.ts';

/** Who is calling. */
export interface PluginContext {
  /** The calling function's name. */
  function: string;
  version: number;
  invocationId: string | undefined;
  now: number;
  /** What the function may keep (its manifest's `kv:`/`docs:` within the server's ceilings). */
  quotas: PluginQuotas;
}

/** A result that is already JSON text: sent as it is, never parsed and serialised again. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** A plugin: TypeScript module behind this interface, registered once in server.ts. */
export interface Plugin {
  readonly name: string;
  /** Action names, for error messages and docs. */
  readonly actions: readonly string[];
  /** Runs `action`; throws KumoError plugin_error for an unknown action or a bad payload. */
  call(action: string, payload: unknown, ctx: PluginContext): Promise<unknown> | unknown;
}
