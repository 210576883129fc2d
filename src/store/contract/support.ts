/**
 * What the contract suites share: how a backend is opened for one test, and records to store.
 * A backend's test file calls each describe…Contract with a function that opens fresh, empty
 * stores (a temporary database, schema or file per call).
 */
import {
  parseManifest,
  toFunctionSpec,
  type InvocationRecord,
  type VersionRecord,
} from '../../core/index.ts';
import type { NewQueuedInvocation, RunResult } from '../queue.ts';
import type { Stores } from '../stores.ts';

/** Opens fresh, empty stores of the backend under test. */
export type OpenStores = () => Stores | Promise<Stores>;

/** Runs `body` on fresh stores and closes them, whatever happens. */
export async function withStores(open: OpenStores, body: (stores: Stores) => Promise<void>): Promise<void> {
  const stores = await open();
  try {
    await body(stores);
  } finally {
    await stores.close();
  }
}

const SPEC = toFunctionSpec(parseManifest({ name: 'f' }), undefined);

/** Version `n` of function `fn`. */
export function versionOf(fn: string, n: number, extra: Partial<VersionRecord> = {}): VersionRecord {
  return {
    function: fn,
    version: n,
    hash: `h${n}`,
    bundleHash: `b${fn}${n}`,
    spec: { ...SPEC, name: fn },
    buildDir: `/b/${fn}/${n}`,
    buildLog: `log ${n}`,
    createdAt: n,
    ...extra,
  };
}

/** A queued async invocation of `fn`. */
export function queued(
  id: string,
  fn: string,
  extra: Partial<NewQueuedInvocation> = {},
): NewQueuedInvocation {
  return {
    id,
    function: fn,
    trigger: 'async',
    maxAttempts: 3,
    createdAt: 1000,
    runAt: 1000,
    request: { method: 'POST', path: '/', headers: {} },
    body: Buffer.from(`body of ${id}`),
    scheduleId: null,
    serialKey: null,
    callbackUrl: null,
    taskToken: null,
    bodiesKept: true,
    ...extra,
  };
}

/** A run's result with status `status`. */
export function result(status = 200): RunResult {
  return {
    version: 1,
    startedAt: 2000,
    finishedAt: 2010,
    statusCode: status,
    outcome: status >= 500 ? 'error' : 'ok',
    cold: false,
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: Buffer.from('out'),
    responseTruncated: false,
    error: null,
    keepRequestBytes: 4,
  };
}

/** A finished sync invocation of `fn`. */
export function finished(
  id: string,
  fn: string,
  createdAt: number,
  extra: Partial<InvocationRecord> = {},
): InvocationRecord {
  return {
    id,
    function: fn,
    version: 1,
    trigger: 'http',
    status: 'succeeded',
    attempt: 1,
    maxAttempts: 1,
    statusCode: 200,
    outcome: 'ok',
    cold: false,
    createdAt,
    startedAt: createdAt,
    finishedAt: createdAt + 1,
    durationMs: 1,
    runAt: null,
    scheduleId: null,
    request: { method: 'GET', path: '/', headers: {} },
    requestBody: null,
    requestTruncated: false,
    responseHeaders: {},
    responseBody: null,
    responseTruncated: false,
    error: null,
    callback: null,
    bodiesKept: true,
    alias: null,
    node: null,
    ...extra,
  };
}
