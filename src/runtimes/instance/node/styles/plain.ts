/**
 * Plain style, after ShortedFaaS: `lambda(input, environment)` gets the raw body as a string and
 * an environment object (the function's variables plus method, path, query, headers,
 * invocationId, the raw `body` bytes and a settable `code`, default 200). The returned value is
 * the response: a string is text, bytes are bytes, an object is JSON, undefined is empty.
 */
import type { IncomingMessage } from 'node:http';
import type { Adapter, HandlerFunction, Invocation } from '../invocation.ts';
import { sendValue } from '../respond.ts';
import { HEADERS } from '../../../../core/index.ts';

/** The second argument of a plain handler. */
export interface PlainEnvironment {
  [variable: string]: unknown;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  invocationId: string;
  /** The raw body, for binary input the string `input` cannot carry. */
  body: Buffer;
  /** The HTTP status of the response; the handler may set it. */
  code: number;
}

/** Serves invocations with a plain handler. */
export function plainAdapter(fn: HandlerFunction, thisArg: unknown): Adapter {
  return async (req, res, invocation) => {
    const environment = toEnvironment(req, invocation);
    const result: unknown = await fn.call(thisArg, invocation.body.toString('utf8'), environment);
    const code = environment.code;
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new Error(`environment.code must be an HTTP status between 100 and 599 (got ${String(code)})`);
    }
    sendValue(res, result, code);
  };
}

/** The environment for one invocation; the platform's fields win over same-named variables. */
function toEnvironment(req: IncomingMessage, invocation: Invocation): PlainEnvironment {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return {
    ...invocation.vars,
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...req.headers },
    invocationId: invocation.id,
    body: invocation.body,
    // As ShortedFaaS defines it: 200, or 202 when the run was queued (async or cron).
    code: queued(req.headers[HEADERS.trigger]) ? 202 : 200,
  };
}

/** Whether the platform marked this run as queued (async or cron) rather than a live request. */
function queued(trigger: string | string[] | undefined): boolean {
  return typeof trigger === 'string' && trigger !== '' && trigger !== 'http';
}
