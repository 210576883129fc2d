/** Reading plugin payloads: every problem is a plugin_error naming the plugin, action and field. */
import { KumoError } from '../core/index.ts';

/** The payload as a mapping; Lua sends tables, node sends objects. */
export function asRecord(payload: unknown, where: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new KumoError(
      'plugin_error',
      `${where}: the payload must be a table/object (got ${payload === null ? 'nil' : Array.isArray(payload) ? 'a list' : typeof payload})`,
    );
  }
  return payload as Record<string, unknown>;
}

/** A required non-empty string field. */
export function stringField(
  record: Record<string, unknown>,
  field: string,
  where: string,
  maxLength = 512,
): string {
  const value = record[field];
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new KumoError(
      'plugin_error',
      `${where}: "${field}" must be a string of 1 to ${maxLength} characters`,
    );
  }
  // Keys and collection names are stored as text, which PostgreSQL cannot hold NUL in: refused on every backend alike.
  if (value.includes('\u0000'))
    throw new KumoError('plugin_error', `${where}: "${field}" must not contain the NUL character`);
  return value;
}

/** The error for an action a plugin does not have. */
export function unknownAction(plugin: string, action: string, actions: readonly string[]): KumoError {
  return new KumoError(
    'plugin_error',
    `plugin ${plugin} has no action ${JSON.stringify(action)} (actions: ${actions.join(', ')})`,
  );
}
