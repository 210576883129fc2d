/**
 * Masks a function's secret values in its log lines, as CI systems do: a function that prints a
 * secret by mistake leaves `***` in the logs instead. Values shorter than MIN_MASKED are left
 * alone (masking "1" or "on" would shred every line); multi-line values are masked line by line,
 * since logs are stored one line at a time.
 */

/** Shortest piece of a secret that is masked. */
export const MIN_MASKED = 4;

/** A function replacing every occurrence of the secret `values` in a line with `***`. */
export function secretMasker(values: readonly string[]): (line: string) => string {
  const pieces = [
    ...new Set(
      values
        .flatMap((v) => v.split(/\r?\n/))
        .map((p) => p.trim())
        .filter((p) => p.length >= MIN_MASKED),
    ),
  ].sort((a, b) => b.length - a.length);
  if (pieces.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const p of pieces) if (out.includes(p)) out = out.replaceAll(p, '***');
    return out;
  };
}
