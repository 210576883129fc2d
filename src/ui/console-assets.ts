/**
 * The console's files, built from src/ui/client with esbuild on the first request and kept in
 * memory for the life of the process: nothing generated is written to disk or kept in the
 * repository, so a checkout can never serve a stale console, and `npm ci` needs no build hook
 * (the same choice as the instance shims, runtimes/shim-bundle.ts). Every file is local: preact
 * and uPlot are bundled in, nothing is fetched from elsewhere.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file the console serves. */
export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const CLIENT = fileURLToPath(new URL('./client/', import.meta.url));

/** Bundles the client: the page, its script and its stylesheet, by the name they are served at. */
export async function buildConsoleAssets(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: { app: path.join(CLIENT, 'main.tsx') },
    bundle: true,
    write: false,
    outdir: '/ui',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: CLIENT,
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    assets.set(name, asset(Buffer.from(file.contents), typeOf(name)));
  }
  assets.set('index.html', asset(await readFile(path.join(CLIENT, 'index.html')), typeOf('index.html')));
  assets.set('favicon.svg', asset(await readFile(path.join(CLIENT, 'favicon.svg')), typeOf('favicon.svg')));
  return assets;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function typeOf(name: string): string {
  if (name.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (name.endsWith('.css')) return 'text/css; charset=utf-8';
  if (name.endsWith('.svg')) return 'image/svg+xml';
  return 'text/html; charset=utf-8';
}
