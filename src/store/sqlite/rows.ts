/** What only the SQLite stores need beyond the shared row conversions (../rows.ts). */

/** A nullable boolean as a nullable 0/1. */
export function bool(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}
