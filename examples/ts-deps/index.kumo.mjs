import { createRequire as __kumoCreateRequire } from 'node:module';
const require = __kumoCreateRequire(import.meta.url);

// ../../../../tmp/kumo-esbuild-rIgw8d/cjs-globals.mjs
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
var filename = fileURLToPath(import.meta.url);
var __dirname = dirname(filename);

// index.ts
import { shout } from "shout";
var index_default = {
  fetch(request) {
    const name = new URL(request.url).searchParams.get("name") ?? "world";
    return new Response(shout(`hello, ${name}`), {
      headers: { "content-type": "text/plain; charset=utf-8" }
    });
  }
};
export {
  index_default as default
};
//# sourceMappingURL=index.kumo.mjs.map
