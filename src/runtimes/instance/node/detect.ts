/**
 * Picking the handler out of the function's module (DESIGN.md "Handler styles"). An explicit
 * style wins; `auto` looks at the exports, in this order:
 *   1. `export default { fetch }` or a named `fetch`          → fetch
 *   2. a named `handler`                                       → lambda (AWS)
 *   3. a named `lambda`                                        → plain
 *   4. a default function (or `module.exports = fn`) with 2+ declared parameters → node `(req, res)`,
 *      with 0-1                                                → fetch `(request) => Response`
 * An export named in the manifest (`handler: index.main`) is used as is: its style comes from the
 * manifest, else from its name (`fetch`, `handler`, `lambda`), else it is an AWS-style handler,
 * as the `file.export` notation is Lambda's.
 */
import type { Style } from './control.ts';
import type { HandlerFunction } from './invocation.ts';

/** A style other than `auto`: what an adapter implements. */
export type ConcreteStyle = Exclude<Style, 'auto'>;

/** The handler to call and how. */
export interface PickedHandler {
  style: ConcreteStyle;
  fn: HandlerFunction;
  /** `this` for the call (the default-exported object of `export default { fetch }`). */
  thisArg: unknown;
}

/** The outcome of picking: a handler, or why there is none (for an unknown_handler report). */
export type PickResult = { ok: true; handler: PickedHandler } | { ok: false; message: string };

type Exports = Record<string, unknown>;

const isFunction = (value: unknown): value is HandlerFunction => typeof value === 'function';

/** The object holding a callable `fetch`, if `value` is one (`export default { fetch }`). */
function fetchObject(value: unknown): { fetch: HandlerFunction } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const fetch: unknown = (value as Exports).fetch;
  return isFunction(fetch) ? (value as { fetch: HandlerFunction }) : undefined;
}

/**
 * The module's exports as one record. A CommonJS module (`module.exports = { handler }`) appears
 * as a default export object, so its properties count as named exports when Node's static
 * analysis did not already list them.
 */
export function exportsOf(mod: Exports): Exports {
  const all: Exports = {};
  for (const [key, value] of Object.entries(mod)) {
    // Node 24 adds a 'module.exports' key to the namespace of a CommonJS module.
    if (key !== 'module.exports') all[key] = value;
  }
  const def = mod.default;
  if (typeof def === 'object' && def !== null && !Array.isArray(def)) {
    for (const [key, value] of Object.entries(def)) if (!(key in all)) all[key] = value;
  }
  return all;
}

/** Where each explicit style looks for its function, first match wins. */
const CANDIDATES: Record<ConcreteStyle, string[]> = {
  fetch: ['default', 'fetch'],
  node: ['default', 'handler'],
  lambda: ['handler', 'default'],
  plain: ['lambda', 'main', 'default'],
};

/** The style an explicitly named export gets when the manifest says `auto`. */
function styleOfNamedExport(name: string, value: unknown): ConcreteStyle {
  if (name === 'fetch' || fetchObject(value)) return 'fetch';
  if (name === 'lambda') return 'plain';
  return 'lambda';
}

/** Chooses the handler of `mod` for `style`, using the export `exportName` when the manifest names one. */
export function pickHandler(mod: Exports, style: Style, exportName: string | null): PickResult {
  const all = exportsOf(mod);
  const found = Object.keys(all);
  const listing = found.length ? found.join(', ') : 'none';
  if (exportName !== null && exportName !== 'default') {
    const value = all[exportName];
    const chosen = style === 'auto' ? styleOfNamedExport(exportName, value) : style;
    const handler = asHandler(chosen, value, ownerOf(mod, exportName));
    if (handler) return { ok: true, handler };
    return {
      ok: false,
      message: `the handler names export "${exportName}", but the module has no such function (exports found: ${listing})`,
    };
  }
  if (style !== 'auto') {
    for (const name of CANDIDATES[style]) {
      const handler = asHandler(style, all[name], ownerOf(mod, name));
      if (handler) return { ok: true, handler };
    }
    const expected = CANDIDATES[style]
      .map((n) => (n === 'default' ? 'a default export' : `"${n}"`))
      .join(' or ');
    return {
      ok: false,
      message: `style ${style} needs ${expected} to be a function (exports found: ${listing})`,
    };
  }
  const handler = detect(mod, all);
  if (handler) return { ok: true, handler };
  return {
    ok: false,
    message:
      'no recognised handler: export default { fetch } or a default function, or a named export ' +
      `fetch, handler (AWS Lambda) or lambda (plain) (exports found: ${listing})`,
  };
}

/** The `auto` rules, in the order of the module comment. */
function detect(mod: Exports, all: Exports): PickedHandler | undefined {
  const def = mod.default;
  const defaultFetch = fetchObject(def);
  if (defaultFetch) return { style: 'fetch', fn: defaultFetch.fetch, thisArg: defaultFetch };
  const named: [string, ConcreteStyle][] = [
    ['fetch', 'fetch'],
    ['handler', 'lambda'],
    ['lambda', 'plain'],
  ];
  for (const [name, style] of named) {
    const value = all[name];
    if (isFunction(value)) return { style, fn: value, thisArg: ownerOf(mod, name) };
  }
  if (isFunction(def)) return { style: def.length >= 2 ? 'node' : 'fetch', fn: def, thisArg: undefined };
  return undefined;
}

/** `this` for a named function: the CommonJS exports object it is a method of, if any. */
function ownerOf(mod: Exports, name: string): unknown {
  const def = mod.default;
  if (name === 'default' || typeof def !== 'object' || def === null) return undefined;
  const value = (def as Exports)[name];
  return value !== undefined && value === exportsOf(mod)[name] ? def : undefined;
}

/** `value` as a handler of `style`: a function, or for fetch an object with a `fetch` method. */
function asHandler(style: ConcreteStyle, value: unknown, thisArg: unknown): PickedHandler | undefined {
  const obj = style === 'fetch' ? fetchObject(value) : undefined;
  if (obj) return { style, fn: obj.fetch, thisArg: obj };
  if (isFunction(value)) return { style, fn: value, thisArg };
  return undefined;
}
