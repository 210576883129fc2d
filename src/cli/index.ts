/** cli: the `kumo` command, a pure HTTP client of the server's control and data planes. */
export { runCli, COMMANDS } from './run.ts';
export type { CliIO } from './io.ts';
export { CliError, UsageError } from './io.ts';
export { packFolder, MAX_BUNDLE_BYTES } from './bundle.ts';
export type { Bundle, PackOptions } from './bundle.ts';
export { formatSize } from './format.ts';
export { DEFAULT_SERVER_URL } from './client.ts';
export { findKey, type FoundKey } from './credentials.ts';
