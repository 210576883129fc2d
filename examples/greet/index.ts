/**
 * A fetch-style function: `export default { fetch(request, env, ctx) }` gets a standard Request
 * and returns a Response, as on Cloudflare Workers, Deno and Bun.
 */
interface Env {
  /** Set in kumo.yaml under `env:`. */
  GREETING?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).searchParams.get('name') ?? (await nameFromBody(request)) ?? 'World';
    return Response.json({ message: `${env.GREETING ?? 'Hello'}, ${name}!` });
  },
};

/** The `name` of a JSON body such as {"name":"Ada"}, if there is one. */
async function nameFromBody(request: Request): Promise<string | undefined> {
  if (request.method !== 'POST') return undefined;
  // A body that is not JSON is not an error here: it just carries no name.
  const body: unknown = await request.json().catch(() => undefined);
  const name = typeof body === 'object' && body !== null ? (body as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
