/** PostgreSQL store URLs: which ones are valid, and how to name one without its password. */

/** Whether `text` is a PostgreSQL URL (postgres:// or postgresql://). */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * The URL as it may be shown (logs, errors, /status): user@host:port/database, never the password
 * nor the query (which may carry one too).
 */
export function describeStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `postgres://${user}${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return 'postgres://(an unparsable URL)';
  }
}

/** Why `url` is not a usable PostgreSQL URL, or undefined when it is (the message never holds the password). */
export function postgresUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'it is not a URL: write postgres://USER:PASSWORD@HOST:PORT/DATABASE';
  }
  if (!isPostgresUrl(url)) return 'it must start with postgres:// or postgresql://';
  if (u.port && !(Number(u.port) > 0 && Number(u.port) < 65536)) return `port ${u.port} is not 1-65535`;
  if (!u.pathname || u.pathname === '/') return 'it names no database: add /DATABASE after the host';
  return undefined;
}
