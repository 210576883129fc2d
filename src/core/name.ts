import { KumoError } from './errors.ts';

/** A function name is a DNS label, so that it can be a subdomain: `greet.localhost`. */
export const FUNCTION_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Throws invalid_name unless `name` is a DNS label. */
export function assertFunctionName(name: string): string {
  if (!FUNCTION_NAME.test(name)) {
    throw new KumoError(
      'invalid_name',
      `function name ${JSON.stringify(name)} is not a DNS label: use 1-63 of a-z, 0-9 and "-", not starting or ending with "-"`,
    );
  }
  return name;
}
