/**
 * `kumo up --store`: where the server keeps its state. SQLite in the data folder (the default), or
 * a PostgreSQL database given by URL (flag, or KUMO_STORE; the flag wins). The URL's password is
 * kept only in `url`: everything shown (errors, logs, /status) uses `display`.
 */
import { KumoError } from '../../core/index.ts';
import { describeStoreUrl, isPostgresUrl, postgresUrlProblem } from '../../store/index.ts';

/** The store backend of the server. */
export type StoreConfig =
  | { kind: 'sqlite' }
  | {
      kind: 'postgres';
      /** The URL with its password: handed to the client only, never shown. */
      url: string;
      /** postgres://user@host:port/database, for messages. */
      display: string;
    };

/** parseArgs options of this part. */
export const STORE_OPTIONS = {
  store: { type: 'string' },
} as const;

/** The lines of `kumo up --help` for these options. */
export const STORE_USAGE = `  --store STORE            sqlite (a file in the data directory, the default) or a PostgreSQL URL
                           postgres://USER:PASSWORD@HOST:PORT/DATABASE (env KUMO_STORE)
`;

type Values = { [K in keyof typeof STORE_OPTIONS]?: string | undefined };

/** Reads the store option over the environment. */
export function parseStoreConfig(values: Values, env: NodeJS.ProcessEnv): StoreConfig {
  const text = (values.store ?? env.KUMO_STORE ?? '').trim();
  if (text === '' || text === 'sqlite') return { kind: 'sqlite' };
  if (!isPostgresUrl(text))
    throw new KumoError(
      'bad_request',
      `--store must be sqlite or a PostgreSQL URL postgres://USER:PASSWORD@HOST:PORT/DATABASE (got ${/:\/\//.test(text) ? describeStoreUrl(text) : JSON.stringify(text.slice(0, 40))})`,
    );
  const problem = postgresUrlProblem(text);
  if (problem) throw new KumoError('bad_request', `--store ${describeStoreUrl(text)}: ${problem}`);
  return { kind: 'postgres', url: text, display: describeStoreUrl(text) };
}
