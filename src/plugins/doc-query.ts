/**
 * The query language of the `docs` plugin, a subset of MongoDB's: `{ field: value }` for equality
 * and `{ field: { $eq | $ne | $gt | $gte | $lt | $lte | $in: … } }`, fields joined by AND, dotted
 * paths into nested documents (`"author.name"`). Comparisons only order numbers with numbers and
 * strings with strings, as MongoDB's type brackets do.
 */
import { KumoError } from '../core/index.ts';

const OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in'] as const;
type Operator = (typeof OPERATORS)[number];

/** Whether `doc` matches `query`; throws plugin_error for an operator it does not know. */
export function matches(doc: Record<string, unknown>, query: Record<string, unknown>): boolean {
  for (const [field, condition] of Object.entries(query)) {
    const value = field === '_id' ? doc._id : valueAt(doc, field);
    if (isOperatorObject(condition)) {
      for (const [op, operand] of Object.entries(condition)) {
        if (!test(op as Operator, value, operand)) return false;
      }
    } else if (!equal(value, condition)) {
      return false;
    }
  }
  return true;
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys.some((k) => k.startsWith('$'))) return false;
  for (const key of keys) {
    if (!(OPERATORS as readonly string[]).includes(key)) {
      throw new KumoError(
        'plugin_error',
        `docs.query: unknown operator ${JSON.stringify(key)} (supported: ${OPERATORS.join(' ')})`,
      );
    }
  }
  return true;
}

function test(op: Operator, value: unknown, operand: unknown): boolean {
  switch (op) {
    case '$eq':
      return equal(value, operand);
    case '$ne':
      return !equal(value, operand);
    case '$in':
      if (!Array.isArray(operand)) throw new KumoError('plugin_error', 'docs.query: $in takes a list');
      return operand.some((item) => equal(value, item));
    default: {
      const order = compare(value, operand);
      if (order === undefined) return false;
      return op === '$gt' ? order > 0 : op === '$gte' ? order >= 0 : op === '$lt' ? order < 0 : order <= 0;
    }
  }
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // An array field matches a value it contains, as in MongoDB.
  if (Array.isArray(a) && !Array.isArray(b)) return a.some((item) => equal(item, b));
  return JSON.stringify(a) === JSON.stringify(b) && a !== undefined;
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
