/** The error of a plugin write refused by the function's quota. */
import { KumoError } from '../core/index.ts';

/** plugin_quota_exceeded, saying which bound the write would break and how to raise it. */
export function quotaError(
  where: string,
  fn: string,
  plugin: 'kv' | 'docs',
  reached: { items: number; bytes: number },
  quota: { items: number; bytes: number },
  [noun, field]: [string, string],
): KumoError {
  const mb = (b: number) => `${Math.round((b / 1024 / 1024) * 100) / 100} MB`;
  const what =
    reached.items > quota.items
      ? `${fn} may keep ${quota.items} ${noun} in ${plugin} ("${field}")`
      : `${fn} may keep ${mb(quota.bytes)} in ${plugin} ("${plugin}.size"), this would make ${mb(reached.bytes)}`;
  return new KumoError(
    'plugin_quota_exceeded',
    `${where} refused: ${what}; delete some, or raise it in kumo.yaml within the server's ceiling`,
  );
}
