/** Parses "250ms", "30s", "10m", "2h", "1d" or a bare number of `unit` into milliseconds. */
export function parseDuration(value: string | number, unit: 'ms' | 's' = 's'): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? value * (unit === 's' ? 1000 : 1) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const factors = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const u = (m[2] ?? unit) as keyof typeof factors;
  return Math.round(n * factors[u]);
}

/** Formats milliseconds for people: "850ms", "12s", "5m", "3h". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10}m`;
  return `${Math.round(ms / 360_000) / 10}h`;
}
