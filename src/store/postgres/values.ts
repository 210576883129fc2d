/** What the PostgreSQL stores share when sending values. */

/**
 * Text as PostgreSQL can store it: a text value cannot hold the NUL character (SQLite's can), so
 * free text from functions (log lines, build logs, schedule data) has it replaced with U+FFFD.
 */
export function pgText(text: string): string;
export function pgText(text: string | null): string | null;
export function pgText(text: string | null): string | null {
  return text === null || !text.includes('\u0000') ? text : text.replaceAll('\u0000', '\uFFFD');
}

/** `list` in slices of at most `size` (a statement takes at most 65535 parameters). */
export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** A value sent as a query parameter. */
export type PgValue = string | number | boolean | Buffer | null;
