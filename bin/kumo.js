#!/usr/bin/env node
// The kumo command. Runs the TypeScript sources directly (Node 24 strips types), so there is no build step.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `kumo needs Node.js 24 or later (this is ${process.version}). Run it from the repository with "npx kumo", which uses the pinned Node 24 in node_modules/.bin.\n`,
  );
  process.exit(1);
}
// `kumo up` is a long-lived server. V8 grows the young generation to 64 MB semi-spaces on a big
// host (128 MB of new space, mostly garbage holding request buffers alive between scavenges), and
// glibc gives each thread its own malloc arenas that keep freed memory: under issue 12's attacks
// the server reached 536 MB of RSS with a 60 MB live heap. Node reads both settings only at start,
// so the server re-executes itself once with them (process.execve: the same pid, no second
// process). A flag of the operator's own (on the command line or in NODE_OPTIONS) wins.
const SEMI_SPACE = '--max-semi-space-size';
if (
  process.argv[2] === 'up' &&
  !process.execArgv.some((a) => a.startsWith(SEMI_SPACE)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(SEMI_SPACE)
) {
  process.execve(
    process.execPath,
    [process.execPath, `${SEMI_SPACE}=8`, ...process.execArgv, ...process.argv.slice(1)],
    // glibc raises its mmap threshold to the size of each large block freed (up to 32 MB), after
    // which request bodies come from the heap and fragment it; a fixed threshold keeps blocks of
    // 128 KB and up in their own mappings, returned to the system when freed.
    { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
  );
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
