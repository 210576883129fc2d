import { createRequire as __kumoCreateRequire } from 'node:module';
const require = __kumoCreateRequire(import.meta.url);

// ../../../../tmp/kumo-esbuild-4KK2vn/cjs-globals.mjs
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
var filename = fileURLToPath(import.meta.url);
var __dirname = dirname(filename);

// index.ts
var index_default = {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") ?? await nameFromBody(request) ?? "World";
    return Response.json({ message: `${env.GREETING ?? "Hello"}, ${name}!` });
  }
};
async function nameFromBody(request) {
  if (request.method !== "POST") return void 0;
  const body = await request.json().catch(() => void 0);
  const name = typeof body === "object" && body !== null ? body.name : void 0;
  return typeof name === "string" && name !== "" ? name : void 0;
}
export {
  index_default as default
};
//# sourceMappingURL=index.kumo.mjs.map
