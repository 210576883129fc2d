#!/usr/bin/env node
// The kumo command. Runs the TypeScript sources directly (Node 24 strips types), so there is no build step.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `kumo needs Node.js 24 or later (this is ${process.version}). Run it from the repository with "npx kumo", which uses the pinned Node 24 in node_modules/.bin.\n`,
  );
  process.exit(1);
}
// Node strips the types of every module at each start (WebAssembly, ~200 ms for the CLI's modules);
// its compile cache keeps the stripped code and V8's code cache between runs. The cache lives in
// this user's own cache folder, never in the shared /tmp, where another local user could plant it.
const { enableCompileCache } = await import('node:module');
const { homedir } = await import('node:os');
if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  enableCompileCache(`${process.env.XDG_CACHE_HOME || `${homedir()}/.cache`}/kumo/node-compile-cache`);
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
