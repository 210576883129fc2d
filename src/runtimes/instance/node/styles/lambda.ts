/**
 * AWS Lambda style: `handler(event, context)` (or the callback form `handler(event, context,
 * callback)`) with an API Gateway HTTP API payload v2.0 event, plus the v1 `httpMethod` and `path`
 * that older handlers read. A result `{ statusCode, headers, multiValueHeaders, cookies, body,
 * isBase64Encoded }` maps to the response, as API Gateway does; any other value is a 200.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS } from '../../../../core/instance-protocol.ts';
import type { Adapter, HandlerFunction, Invocation } from '../invocation.ts';
import { isBytes, sendValue } from '../respond.ts';

/** The HTTP API v2.0 event (with v1's httpMethod and path). */
export interface LambdaEvent {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
  httpMethod: string;
  path: string;
}

/** The context argument, with the fields handlers commonly read. */
export interface LambdaContext {
  awsRequestId: string;
  invocationId: string;
  functionName: string;
  functionVersion: string;
  /** A string, as on AWS. */
  memoryLimitInMB: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

/** Serves invocations with an AWS-style handler. */
export function lambdaAdapter(fn: HandlerFunction, thisArg: unknown): Adapter {
  return async (req, res, invocation) => {
    const context = toContext(invocation);
    const call = (event: unknown) =>
      fn.length >= 3 ? callWithCallback(fn, thisArg, event, context) : fn.call(thisArg, event, context);
    if (req.headers[HEADERS.lambdaInvoke] === '1') return invokeDirect(res, invocation, call);
    sendLambdaResult(res, await call(toEvent(req, invocation, new Date())));
  };
}

/**
 * A direct invocation (the Lambda API's Invoke): the body is the event and the result goes back
 * as JSON; a thrown error is Lambda's error payload under 200 with the function-error header,
 * and its stack is logged as Lambda's runtime logs it.
 */
async function invokeDirect(
  res: ServerResponse,
  invocation: Invocation,
  call: (event: unknown) => unknown,
): Promise<void> {
  let payload: Buffer;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  try {
    const text = invocation.body.toString('utf8');
    const result = await call(text.trim() === '' ? {} : (JSON.parse(text) as unknown));
    payload = Buffer.from(JSON.stringify(result) ?? 'null');
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(`${invocation.id}\tERROR\tInvoke Error\t${e.stack ?? e.message}`);
    headers[HEADERS.functionError] = 'Unhandled';
    payload = Buffer.from(
      JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }),
    );
  }
  res.writeHead(200, { ...headers, 'content-length': String(payload.length) });
  res.end(payload);
}

/** Builds the event for a request whose body has been read into `invocation.body`. */
export function toEvent(req: IncomingMessage, invocation: Invocation, now: Date): LambdaEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const headers = joinHeaders(req.rawHeaders);
  // API Gateway moves cookies out of the headers into their own list.
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  const cookies = cookieHeader?.split(/;\s*|,/).filter((c) => c.trim() !== '');
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  const host = headers.host ?? 'localhost';
  const body = invocation.body;
  const text = body.length > 0 && isUtf8(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'kumo',
      apiId: 'kumo',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: headers['x-forwarded-for']?.split(',')[0]?.trim() ?? req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: invocation.id,
      routeKey: '$default',
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
    httpMethod: method,
    path: url.pathname,
  };
}

/** Lower-cased header names with repeated values joined by commas, as API Gateway v2 sends them. */
function joinHeaders(raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time format. */
function apiGatewayTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}`;
  return `${date}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The context for one invocation. */
function toContext(invocation: Invocation): LambdaContext {
  return {
    awsRequestId: invocation.id,
    invocationId: invocation.id,
    functionName: invocation.functionName,
    functionVersion: invocation.version,
    memoryLimitInMB: String(invocation.memoryMb),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, invocation.deadline - Date.now()),
  };
}

/** Calls a callback-form handler; the first of callback and a returned promise decides. */
function callWithCallback(
  fn: HandlerFunction,
  thisArg: unknown,
  event: unknown,
  context: LambdaContext,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (err: unknown, result?: unknown) =>
      err === null || err === undefined ? resolve(result) : reject(err);
    const returned: unknown = fn.call(thisArg, event, context, callback);
    if (isThenable(returned)) returned.then(resolve, reject);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A result shaped like API Gateway's (it has a statusCode), as opposed to a bare value. */
interface StructuredResult {
  statusCode: number | string;
  headers?: Record<string, unknown>;
  multiValueHeaders?: Record<string, unknown>;
  cookies?: unknown;
  body?: unknown;
  isBase64Encoded?: boolean;
}

function isStructured(value: unknown): value is StructuredResult {
  if (typeof value !== 'object' || value === null || isBytes(value)) return false;
  const code = (value as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' || (typeof code === 'string' && /^\d{3}$/.test(code));
}

/** Maps a handler's result to the response. */
export function sendLambdaResult(res: ServerResponse, result: unknown): void {
  if (!isStructured(result)) {
    if (typeof result === 'string') res.setHeader('content-type', textContentType(result));
    sendValue(res, result, 200);
    return;
  }
  const status = Number(result.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new Error(
      `statusCode must be an HTTP status between 100 and 599 (got ${String(result.statusCode)})`,
    );
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (value !== undefined && value !== null) res.setHeader(name, String(value));
  }
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    for (const value of Array.isArray(values) ? values : [values]) res.appendHeader(name, String(value));
  }
  if (Array.isArray(result.cookies))
    for (const cookie of result.cookies) res.appendHeader('set-cookie', String(cookie));
  const body = result.body;
  if (body === undefined || body === null || body === '') {
    res.statusCode = status;
    res.end();
    return;
  }
  if (typeof body !== 'string') {
    sendValue(res, body, status);
    return;
  }
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body);
  if (!res.hasHeader('content-type')) {
    res.setHeader(
      'content-type',
      result.isBase64Encoded ? 'application/octet-stream' : textContentType(body),
    );
  }
  sendValue(res, bytes, status);
}

/** JSON when the text parses as JSON (what a handler returning JSON.stringify(...) means), else plain text. */
function textContentType(text: string): string {
  try {
    JSON.parse(text);
    return 'application/json; charset=utf-8';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
