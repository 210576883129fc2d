/** The console's pages, addressed by the URL's fragment (`#/functions/greet`): no server routes. */

/** A page and its parameters. */
export type Route =
  | { page: 'functions' }
  | { page: 'function'; name: string }
  | { page: 'invocations'; function: string | undefined; status: string | undefined }
  | { page: 'invocation'; id: string }
  | { page: 'logs'; name: string }
  | { page: 'invoke'; name: string }
  | { page: 'admin' };

/** The route of a fragment like `#/invocations?function=greet`. */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, arg] = parts;
  if (head === 'functions' && arg) return { page: 'function', name: arg };
  if (head === 'invocations' && arg) return { page: 'invocation', id: arg };
  if (head === 'invocations')
    return {
      page: 'invocations',
      function: q.get('function') ?? undefined,
      status: q.get('status') ?? undefined,
    };
  if (head === 'logs' && arg) return { page: 'logs', name: arg };
  if (head === 'invoke' && arg) return { page: 'invoke', name: arg };
  if (head === 'admin') return { page: 'admin' };
  return { page: 'functions' };
}

/** The fragment of a route. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case 'functions':
      return '#/functions';
    case 'function':
      return `#/functions/${e(route.name)}`;
    case 'invocation':
      return `#/invocations/${e(route.id)}`;
    case 'invocations': {
      const q = new URLSearchParams();
      if (route.function) q.set('function', route.function);
      if (route.status) q.set('status', route.status);
      const s = q.toString();
      return `#/invocations${s ? `?${s}` : ''}`;
    }
    case 'logs':
      return `#/logs/${e(route.name)}`;
    case 'invoke':
      return `#/invoke/${e(route.name)}`;
    case 'admin':
      return '#/admin';
  }
}
