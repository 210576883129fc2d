/**
 * A TypeScript function importing a package. kumo bundles this file with esbuild and leaves
 * `shout` as an import, resolved from node_modules after `npm install`.
 */
import { shout } from 'shout';

export default {
  fetch(request: Request): Response {
    const name = new URL(request.url).searchParams.get('name') ?? 'world';
    return new Response(shout(`hello, ${name}`), {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  },
};
