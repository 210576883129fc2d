#!/usr/bin/env node
// The kumo command. Runs the TypeScript sources directly (Node 24 strips types), so there is no build step.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `kumo needs Node.js 24 or later (this is ${process.version}). Run it from the repository with "npx kumo", which uses the pinned Node 24 in node_modules/.bin.\n`,
  );
  process.exit(1);
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
