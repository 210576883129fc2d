/**
 * The plugins of this server and the one check every call passes: the caller must list the plugin
 * in its manifest, and the plugin must exist here.
 */
import {
  DEFAULT_PLUGIN_QUOTAS,
  KumoError,
  resolvePluginQuotas,
  type FunctionSpec,
  type PluginQuotas,
} from '../core/index.ts';
import type { Plugin, PluginContext } from './plugin.ts';

/** The plugins this server offers, by name. */
export class PluginRegistry {
  private readonly plugins = new Map<string, Plugin>();
  private readonly quotas: PluginQuotas;
  private readonly exists: (fn: string) => boolean;

  /**
   * `quotas`: the server's defaults and ceilings of what a function may keep; `exists`: whether a
   * function is still deployed (an instance draining after a delete must not write data that the
   * next function of that name would read).
   */
  constructor(
    plugins: Plugin[],
    quotas: PluginQuotas = DEFAULT_PLUGIN_QUOTAS,
    exists: (fn: string) => boolean = () => true,
  ) {
    for (const plugin of plugins) this.plugins.set(plugin.name, plugin);
    this.quotas = quotas;
    this.exists = exists;
  }

  /** Names of the plugins offered. */
  names(): string[] {
    return [...this.plugins.keys()].sort();
  }

  /** Throws plugin_not_found for a listed plugin this server lacks (checked when an instance starts). */
  checkListed(spec: Pick<FunctionSpec, 'name' | 'plugins'>): void {
    // Versions recorded before plugins existed have no list.
    for (const name of spec.plugins ?? []) {
      if (!this.plugins.has(name)) {
        throw new KumoError(
          'plugin_not_found',
          `${spec.name} lists plugin ${JSON.stringify(name)}, which this server does not have (have: ${this.names().join(', ')})`,
        );
      }
    }
  }

  /** Runs one call for a function with `spec`. */
  async call(
    spec: Pick<FunctionSpec, 'name' | 'plugins' | 'kv' | 'docs'>,
    plugin: string,
    action: string,
    payload: unknown,
    ctx: Omit<PluginContext, 'quotas'>,
  ): Promise<unknown> {
    const found = this.plugins.get(plugin);
    const listed = spec.plugins ?? [];
    if (!listed.includes(plugin)) {
      const hint = found
        ? `add "plugins: [${[...listed, plugin].join(', ')}]" to kumo.yaml`
        : `this server has: ${this.names().join(', ')}`;
      throw new KumoError(
        'plugin_not_allowed',
        `call('${plugin}', '${action}', …) refused: ${spec.name} does not list plugin ${JSON.stringify(plugin)}; ${hint}`,
      );
    }
    if (!found)
      throw new KumoError(
        'plugin_not_found',
        `no plugin ${JSON.stringify(plugin)} on this server (have: ${this.names().join(', ')})`,
      );
    if (!this.exists(spec.name))
      throw new KumoError('function_not_found', `${spec.name} was deleted: its plugin data is gone`);
    // Clamped, not refused: the server's ceilings may have been lowered since the deploy.
    const quotas = resolvePluginQuotas(spec, this.quotas, false);
    return found.call(action, payload, { ...ctx, quotas });
  }
}
