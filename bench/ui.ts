/**
 * The console benchmark, `npm run bench:ui`: 500 functions and 100,000 history rows of the last
 * 24 h (seeded straight into the store before kumo starts: deploying 500 functions would measure
 * the builder, not the console), then, against that kumo process:
 *  1. GET /api/v1/functions/NAME/stats/buckets?since=24h&step=30m — on the busiest function (a
 *     quarter of all rows) and on a typical one (target ≤ 50 ms);
 *  2. GET /api/v1/overview?since=24h&step=1h — the one call behind the functions view;
 *  3. in Chromium: the functions view (all 500 rows drawn) and a function's page (4 charts and
 *     its versions drawn), from the click that opens it to the last element (target ≤ 1 s each).
 * Prints a Markdown table with the machine.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { parseManifest, toFunctionSpec, type InvocationRecord } from '../src/core/index.ts';
import { openSqliteStores } from '../src/store/index.ts';
import { startKumo, stopKumo } from './kumo-process.ts';

const FUNCTIONS = Number(process.env.BENCH_FUNCTIONS ?? 500);
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 7);
const CHROMIUM = process.env.KUMO_CHROMIUM ?? '/usr/bin/chromium';
const HOT_SHARE = 0.25;
const DAY = 86_400_000;
const RUNTIMES = ['node', 'python', 'lua', 'exec'] as const;

/** Writes FUNCTIONS functions (2 versions each) and ROWS finished invocations into `dataDir`. */
async function seed(dataDir: string): Promise<void> {
  const stores = openSqliteStores(path.join(dataDir, 'kumo.db'));
  const { functions: store, invocations } = stores;
  const now = Date.now();
  const names = Array.from({ length: FUNCTIONS }, (_v, i) => `fn-${String(i).padStart(3, '0')}`);
  names[0] = 'hot';
  for (const [i, name] of names.entries()) {
    const runtime = RUNTIMES[i % RUNTIMES.length] ?? 'node';
    const spec = toFunctionSpec(
      parseManifest({ name, runtime, ...(runtime === 'exec' ? { command: 'cat' } : {}) }),
      name,
    );
    for (const version of [1, 2]) {
      await store.addVersion({
        function: name,
        version,
        hash: `${name}-${version}`.padEnd(64, '0'),
        bundleHash: `${name}-${version}`.padEnd(64, '0'),
        spec,
        buildDir: path.join(dataDir, 'builds', 'none'),
        buildLog: '',
        createdAt: now - DAY + version,
      });
    }
  }
  const batch: InvocationRecord[] = [];
  for (let i = 0; i < ROWS; i++) {
    const hot = i < ROWS * HOT_SHARE;
    const fn = hot ? 'hot' : (names[1 + (i % (FUNCTIONS - 1))] ?? 'hot');
    const createdAt = now - Math.floor(Math.random() * DAY);
    const durationMs = Math.round(2 + Math.random() * 40 + (Math.random() < 0.05 ? 300 : 0));
    const failed = Math.random() < 0.02;
    batch.push({
      id: randomUUID(),
      function: fn,
      version: 2,
      trigger: 'http',
      status: failed ? 'failed' : 'succeeded',
      attempt: 1,
      maxAttempts: 1,
      statusCode: failed ? 500 : 200,
      outcome: failed ? 'error' : 'ok',
      cold: Math.random() < 0.01,
      createdAt,
      startedAt: createdAt,
      finishedAt: createdAt + durationMs,
      durationMs,
      runAt: null,
      scheduleId: null,
      request: { method: 'POST', path: '/', headers: { 'content-type': 'application/json' } },
      requestBody: Buffer.from('{"name":"World"}'),
      requestTruncated: false,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: Buffer.from('{"message":"Hello, World!"}'),
      responseTruncated: false,
      error: null,
      callback: null,
      bodiesKept: true,
      alias: null,
    });
    if (batch.length === 5000) await invocations.insertFinished(batch.splice(0));
  }
  await invocations.insertFinished(batch);
  await stores.close();
}

/** Milliseconds of `n` runs of `fn`, sorted. */
async function timed(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => xs.at(-1) ?? NaN;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kumo-bench-ui-'));
  await chmod(dataDir, 0o711);
  const seedStart = performance.now();
  await seed(dataDir);
  process.stderr.write(
    `seeded ${FUNCTIONS} functions and ${ROWS} rows in ${Math.round(performance.now() - seedStart)} ms\n`,
  );
  const kumo = await startKumo(dataDir, ['--history-max', String(ROWS)]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const get = (p: string) => async () => {
      const res = await fetch(`${kumo.url}/api/v1${p}`, { headers: { authorization: `Bearer ${kumo.key}` } });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    // Warm-up: the first call compiles the statements.
    for (const p of ['/functions/hot/stats/buckets', '/overview']) await get(p)();
    const hotBuckets = await timed(TRIALS * 3, get('/functions/hot/stats/buckets?since=24h&step=30m'));
    const typicalBuckets = await timed(TRIALS * 3, get('/functions/fn-123/stats/buckets?since=24h&step=30m'));
    const overview = await timed(TRIALS, get('/overview?since=24h&step=1h'));

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const first = performance.now();
    await page.goto(`${kumo.url}/ui/`);
    await page.fill('input[type=password]', kumo.key);
    await page.click('button[type=submit]');
    await functionsDrawn(page);
    const firstLoad = performance.now() - first;
    const functionsView: number[] = [];
    const functionPage: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      let t = performance.now();
      await page.click('[data-function=hot] a');
      await page.waitForSelector('[data-table=versions] [data-version="1"]');
      await page.waitForSelector('[data-charts] figure:nth-child(4) canvas');
      functionPage.push(performance.now() - t);
      t = performance.now();
      await page.click('header.top a.brand');
      await functionsDrawn(page);
      functionsView.push(performance.now() - t);
    }
    functionsView.sort((a, b) => a - b);
    functionPage.sort((a, b) => a - b);

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const rows: [string, number[], string, number][] = [
      [
        `stats buckets, busiest function (${ROWS * HOT_SHARE} rows in 24 h), 48 buckets`,
        hotBuckets,
        '≤ 50 ms',
        50,
      ],
      [
        `stats buckets, typical function (~${Math.round((ROWS * (1 - HOT_SHARE)) / (FUNCTIONS - 1))} rows)`,
        typicalBuckets,
        '≤ 50 ms',
        50,
      ],
      [`GET /overview, ${FUNCTIONS} functions, ${ROWS} rows`, overview, '', Infinity],
      [`functions view in Chromium (${FUNCTIONS} rows drawn)`, functionsView, '≤ 1 s', 1000],
      ["a function's page in Chromium (4 charts, versions)", functionPage, '≤ 1 s', 1000],
    ];
    process.stdout.write(
      `\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}\n` +
        `${FUNCTIONS} functions, ${ROWS} history rows over 24 h; ${TRIALS} trials a view (API: ${TRIALS * 3} calls), first sign-in and load ${Math.round(firstLoad)} ms\n\n` +
        '| measurement | p50 ms | max ms | target | met |\n|---|---:|---:|---|---|\n' +
        rows
          .map(
            ([what, xs, target, limit]) =>
              `| ${what} | ${median(xs).toFixed(1)} | ${max(xs).toFixed(1)} | ${target} | ${target ? (max(xs) <= limit ? 'yes' : median(xs) <= limit ? 'p50 only' : 'no') : ''} |`,
          )
          .join('\n') +
        '\n',
    );
  } finally {
    await browser.close();
    await stopKumo(kumo.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until the functions view shows every function (waitForFunction needs eval, which the CSP forbids). */
async function functionsDrawn(page: Page): Promise<void> {
  await page.waitForSelector(`[data-table=functions] tbody tr:nth-child(${FUNCTIONS})`);
}

await main();
