/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core): sign in, a
 * function deployed by the CLI, the invoke console, live logs, rollback, redrive, what a read key
 * sees, the XSS canary, admin. Each view is saved as a screenshot in test-output/ui/; with
 * KUMO_UI_SCREENSHOTS=docs the main ones are also copied to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  api,
  apiJson,
  eventually,
  invoke,
  kumo,
  ROOT,
  startTestServer,
  writeFunction,
  type TestServer,
} from './harness.ts';

const CHROMIUM = process.env.KUMO_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-output', 'ui');
const DOCS_SHOTS = path.join(ROOT, 'docs', 'screenshots');
/** The screenshots shown in the README. */
const DOCS = new Set(['functions', 'function', 'invocation', 'logs', 'invoke', 'admin']);

/** Saves a screenshot of the page as `name`.png (and in docs/ when asked). */
async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.KUMO_UI_SCREENSHOTS === 'docs' && DOCS.has(name)) {
    await mkdir(DOCS_SHOTS, { recursive: true });
    await copyFile(file, path.join(DOCS_SHOTS, `${name}.png`));
  }
}

const HELLO_V1 = `export default { async fetch(req) {
  const text = await req.text();
  console.log('hello got ' + text);
  return Response.json({ version: 1, echo: text });
} };
`;

/** Logs and answers HTML and script in every place a function controls. */
const EVIL = `export default { async fetch(req) {
  console.log('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>');
  return new Response('<img src=x onerror="window.__pwned=3"><script>window.__pwned=4</script><b>bold</b>', {
    headers: { 'content-type': 'text/html', 'x-evil': '<img src=x onerror=window.__pwned=5>' },
  });
} };
`;

/** Waits until `selector` matches `n` elements (waitForFunction would need eval, which the CSP forbids). */
function countIs(page: Page, selector: string, n: number): Promise<boolean> {
  return eventually(async () => (await page.locator(selector).count()) === n, 10_000, `${n} × ${selector}`);
}

describe('web console', () => {
  let server: TestServer;
  let browser: Browser;
  let deadId = '';

  before(async () => {
    server = await startTestServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // hello: deployed through the CLI, as a user would.
    const hello = await writeFunction({ 'kumo.yaml': 'name: hello\n', 'index.js': HELLO_V1 });
    const deployed = await kumo(server.url, ['deploy', hello]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const evil = await writeFunction({ 'kumo.yaml': 'name: evil\n', 'index.js': EVIL });
    assert.equal((await kumo(server.url, ['deploy', evil])).code, 0);
    // flaky: its first attempt fails and, with no retries, the invocation is dead; a redrive succeeds.
    const flaky = await writeFunction({
      'kumo.yaml': 'name: flaky\nretries: 0\n',
      'index.js': `export default { fetch(req) {
        const attempt = req.headers.get('x-kumo-attempt');
        console.log('flaky attempt ' + attempt);
        return attempt === '1' ? new Response('first attempt fails', { status: 500 }) : Response.json({ ok: true });
      } };\n`,
    });
    assert.equal((await kumo(server.url, ['deploy', flaky])).code, 0);
    assert.equal(
      (await kumo(server.url, ['schedule', 'flaky', '--cron', '0 3 * * *', '--tz', 'Europe/Paris'])).code,
      0,
    );
    for (let i = 0; i < 5; i++)
      await (await invoke(server, 'hello', '/', { method: 'POST', body: `warm ${i}` })).text();
    const queued = await fetch(`${server.url}/async/fn/flaky`, { method: 'POST', body: '{"job":1}' });
    deadId = ((await queued.json()) as { id: string }).id;
    await eventually(
      async () => (await apiJson<{ status: string }>(server, `/invocations/${deadId}`)).status === 'dead',
      20_000,
      'the flaky invocation to be dead',
    );
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  /** A new page signed in with `key`, at the functions view. */
  async function signedIn(key = server.adminKey): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${server.url}/ui/`);
    await page.fill('input[type=password]', key);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-view=functions]');
    return page;
  }

  test('serves every console file from kumo with a strict CSP, no framing, no cookies', async () => {
    const page = await fetch(`${server.url}/ui`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('set-cookie'), null);
    const html = await page.text();
    assert.doesNotMatch(
      html,
      /<script>|<script(?![^>]*\bsrc=)|style=|https?:\/\//,
      'no inline script or style, no CDN',
    );
    const js = await fetch(`${server.url}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.doesNotMatch(await js.text(), /https?:\/\/(?:cdn|unpkg|esm\.sh|jsdelivr)/);
    assert.equal((await fetch(`${server.url}/ui/app.css`)).status, 200);
    assert.equal((await fetch(`${server.url}/ui/nothing.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/ui/`, { method: 'POST' })).status, 401, 'only reading is open');
  });

  test('signs in with an API key kept in memory only, and lists a function deployed by the CLI', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${server.url}/ui`);
    await page.waitForSelector('[data-view=signin]');
    await shot(page, 'signin');
    await page.fill('input[type=password]', 'kumo_000000000000_wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-view=signin] [role=alert]');
    await page.fill('input[type=password]', server.adminKey);
    await page.click('button[type=submit]');
    const row = page.locator('[data-function=hello]');
    await row.waitFor();
    assert.match(await row.innerText(), /hello\s+node/);
    assert.match(await row.innerText(), /\b5\b/, 'its five invocations of the last 24 h');
    assert.equal(await page.locator('svg.spark').count(), 3, 'a sparkline per function');
    assert.equal(await page.locator('[data-field=insecure-banner]').count(), 0, 'sandboxed: no banner');
    // Browser code as text: this file is type-checked against Node's globals, not the DOM's.
    const stored = (await page.evaluate(`({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
      url: location.href,
    })`)) as Record<string, string>;
    for (const [where, value] of Object.entries(stored))
      assert.ok(!value.includes(server.adminKey.slice(5, 17)), `the key is not in ${where}`);
    await page.fill('input[type=search]', 'fla');
    await countIs(page, '[data-function]', 1);
    await page.fill('input[type=search]', '');
    await shot(page, 'functions');
    await page.close();
  });

  test('a function page charts its invocations and rolls back to the previous version in one click', async () => {
    const v2 = await writeFunction({
      'kumo.yaml': 'name: hello\n',
      'index.js': HELLO_V1.replace('version: 1', 'version: 2'),
    });
    assert.equal((await kumo(server.url, ['deploy', v2])).code, 0);
    const page = await signedIn();
    await page.click('[data-function=hello] a');
    await page.waitForSelector('[data-view=function] [data-charts] canvas');
    assert.equal(await page.locator('[data-charts] figure').count(), 4);
    await page.waitForSelector('[data-field=active-version]:text("v2")');
    await shot(page, 'function');
    await page.click('[data-action=rollback-1]');
    await page.waitForSelector('[data-field=active-version]:text("v1")');
    const info = await apiJson<{ activeVersion: number }>(server, '/functions/hello');
    assert.equal(info.activeVersion, 1);
    const answer = await (
      await invoke(server, 'hello', '/', { method: 'POST', body: 'after rollback' })
    ).json();
    assert.equal((answer as { version: number }).version, 1);
    // Schedules with their next runs.
    await page.goto(`${server.url}/ui/#/functions/flaky`);
    await page.waitForSelector('[data-table=schedules]');
    assert.match(await page.locator('[data-table=schedules]').innerText(), /0 3 \* \* \*\s+Europe\/Paris/);
    await page.close();
  });

  test('invokes a function from the console and its log line shows up in the live tail', async () => {
    const logs = await signedIn();
    await logs.goto(`${server.url}/ui/#/logs/hello`);
    await logs.waitForSelector('[data-field=tail-state]:text("live")');
    const console = await signedIn();
    await console.goto(`${server.url}/ui/#/invoke/hello`);
    await console.waitForSelector('[data-view=invoke]');
    const marker = `marker-${Date.now()}`;
    await console.fill('textarea[aria-label=Body]', marker);
    await console.fill('input[aria-label="Path and query"]', '/some/path?x=1');
    await console.click('[data-action=send]');
    await console.waitForSelector('[data-field=invoke-status]:text("200")');
    assert.match(await console.locator('[data-field=invoke-body]').innerText(), new RegExp(marker));
    assert.match(await console.locator('[data-field=invoke-result]').innerText(), /x-kumo-invocation-id/);
    await shot(console, 'invoke');
    await logs.waitForSelector(`[data-field=live-logs] :text("hello got ${marker}")`, { timeout: 10_000 });
    await shot(logs, 'logs');
    // Search over a window finds it too.
    await logs.click('button:text("Search")');
    await logs.fill('input[aria-label="Search text"]', marker);
    await logs.click('form button[type=submit]');
    await logs.waitForSelector(`[data-field=search-logs] :text("hello got ${marker}")`);
    assert.equal(await logs.locator('[data-field=search-logs] .line').count(), 1);
    await logs.close();
    await console.close();
  });

  test('lists invocations with filters and shows one in detail, with copy as curl', async () => {
    const page = await signedIn();
    await page.goto(`${server.url}/ui/#/invocations?function=hello`);
    await page.waitForSelector('[data-table=invocations] [data-invocation]');
    const rows = await page.locator('[data-table=invocations] [data-invocation]').count();
    assert.ok(rows >= 7, `hello's invocations are listed (${rows})`);
    await page.selectOption('label:has-text("Status") select', 'dead');
    await countIs(page, '[data-table=invocations] [data-invocation]', 0);
    await page.selectOption('label:has-text("Status") select', '');
    await page.waitForSelector('[data-table=invocations] [data-invocation]');
    await shot(page, 'invocations');
    await page
      .locator('[data-table=invocations] [data-invocation] a[href^="#/invocations/"]')
      .first()
      .click();
    await page.waitForSelector('[data-view=invocation] [data-table=attempts]');
    assert.match(await page.locator('[data-field=invocation-logs]').innerText(), /hello got/);
    await page.click('[data-action=copy-curl]');
    const curl = await page.locator('[data-field=curl]').innerText();
    assert.match(curl, /^curl -X POST .*\/fn\/hello\/.* --data-binary /);
    await shot(page, 'invocation');
    await page.close();
  });

  test('redrives a dead invocation from its page', async () => {
    const page = await signedIn();
    await page.goto(`${server.url}/ui/#/admin`);
    await page.waitForSelector(`[data-table=dead] [data-invocation="${deadId}"]`);
    await shot(page, 'admin');
    await page.goto(`${server.url}/ui/#/invocations/${deadId}`);
    await page.waitForSelector('[data-action=redrive]');
    await page.click('[data-action=redrive]');
    const done = await eventually(
      async () => {
        const r = await apiJson<{ status: string; attempt: number }>(server, `/invocations/${deadId}`);
        return r.status === 'succeeded' ? r : undefined;
      },
      20_000,
      'the redriven invocation to succeed',
    );
    assert.equal(done.attempt, 2);
    await page.click('button:text("Refresh")');
    await page.waitForSelector('[data-view=invocation] .badge:text("succeeded")');
    assert.equal(await page.locator('[data-table=attempts] tbody tr').count(), 2);
    await page.close();
  });

  test('a read key sees the functions, charts and history but no action button', async () => {
    const created = (await (
      await api(server, '/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'viewer', scopes: ['read'] }),
      })
    ).json()) as { key: string };
    const page = await signedIn(created.key);
    assert.match(await page.locator('[data-field=who]').innerText(), /viewer \(read\)/);
    assert.equal(await page.locator('nav a:text("Admin")').count(), 0);
    await page.waitForSelector('[data-function=hello]');
    await page.click('[data-function=hello] a');
    await page.waitForSelector('[data-view=function] [data-table=versions] [data-version]');
    await page.waitForSelector('[data-charts] canvas');
    assert.equal(await page.locator('[data-action]').count(), 0, 'no rollback, no invoke');
    assert.equal(await page.locator('h2:text("Secrets")').count(), 0, 'secret names need deploy');
    await page.goto(`${server.url}/ui/#/invocations/${deadId}`);
    await page.waitForSelector('[data-view=invocation] [data-table=attempts]');
    assert.equal(await page.locator('[data-action=redrive]').count(), 0);
    await shot(page, 'read-key');
    await page.close();
  });

  test('an admin creates a key, shown once, and revokes it', async () => {
    const page = await signedIn();
    await page.goto(`${server.url}/ui/#/admin`);
    await page.waitForSelector('[data-table=keys]');
    await page.fill('input[aria-label="Key name"]', 'from-console');
    await page.click('[data-action=create-key]');
    const key = (await page.locator('[data-field=new-key] pre').innerText()).trim();
    assert.match(key, /^kumo_[0-9a-f]{12}_/);
    const id = key.split('_')[1] ?? '';
    assert.equal((await api(server, '/whoami', {}, { key })).status, 200);
    await page.click('[data-field=new-key] button');
    await page.click(`[data-action=ask-revoke-${id}]`);
    await page.click(`[data-action=revoke-${id}]`);
    await page.waitForSelector(`[data-key="${id}"] .badge:text("revoked")`);
    assert.equal((await api(server, '/whoami', {}, { key })).status, 401);
    assert.match(await page.locator('[data-table=audit]').innerText(), /POST \/api\/v1\/keys/);
    await page.close();
  });

  test('nothing a function controls runs in the page: logs, bodies and headers are text', async () => {
    const page = await signedIn();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/ui/#/logs/evil`);
    await page.waitForSelector('[data-field=tail-state]:text("live")');
    await page.goto(`${server.url}/ui/#/invoke/evil`);
    await page.fill('textarea[aria-label=Body]', '<img src=x onerror="window.__pwned=6">');
    await page.click('[data-action=send]');
    await page.waitForSelector('[data-field=invoke-status]:text("200")');
    assert.match(
      await page.locator('[data-field=invoke-body]').innerText(),
      /<script>window.__pwned=4<\/script>/,
    );
    assert.match(
      await page.locator('[data-field=invoke-result]').innerText(),
      /<img src=x onerror=window.__pwned=5>/,
    );
    assert.equal(
      await page.locator('main img, main script, [data-field=invoke-body] *').count(),
      0,
      'no element from the function',
    );
    await page.click('[data-field=invoke-result] a');
    await page.waitForSelector('[data-view=invocation] [data-table=attempts]');
    // Its log line may reach the store a moment after the answer: refresh until it is there.
    await eventually(
      async () => {
        const logs = page.locator('[data-field=invocation-logs]');
        if ((await logs.count()) && (await logs.innerText()).includes('<script>window.__pwned=2'))
          return true;
        await page.click('button:text("Refresh")');
        return false;
      },
      10_000,
      'the log line in the detail',
    );
    assert.match(
      await page.locator('[data-view=invocation] [data-field=body]').last().innerText(),
      /onerror/,
    );
    await page.goto(`${server.url}/ui/#/logs/evil`);
    await page.waitForSelector('[data-field=live-logs] :text("onerror")');
    assert.equal(
      await page.locator('main img, main script, [data-field=invoke-body] *').count(),
      0,
      'no element from the function',
    );
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined', 'the canary never ran');
    assert.deepEqual(errors, []);
    await shot(page, 'xss-canary');
    await page.close();
  });
});

describe('web console on a server without a sandbox', () => {
  test('shows a banner on every page', async () => {
    const server = await startTestServer(['--insecure-no-sandbox']);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 500 } });
      await page.goto(`${server.url}/ui/`);
      await page.fill('input[type=password]', server.adminKey);
      await page.click('button[type=submit]');
      const banner = page.locator('[data-field=insecure-banner]');
      await banner.waitFor();
      assert.match(await banner.innerText(), /--insecure-no-sandbox/);
      await shot(page, 'insecure-banner');
    } finally {
      await browser.close();
      await server.dispose();
    }
  });
});
