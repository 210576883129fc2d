/** The server log's interface (implemented in telemetry/), so every part can log without importing it. */

/** Severity of a server log line. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a log line. Never put a secret here. */
export type Fields = Record<string, string | number | boolean | null | undefined>;

/** The server log. */
export interface ServerLog {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}
