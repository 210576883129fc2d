/**
 * Pure formatting and shaping of API data for the console: numbers, times, sparklines, sorting
 * and "copy as curl". No DOM here, so it is unit-tested under Node (src/ui/format.test.ts).
 */

/** Milliseconds for people: "0.4 ms", "12 ms", "1.25 s", "3.2 min". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A share (0..1) as a percentage: "0%", "0.4%", "12%". */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share) || share <= 0) return '0%';
  const pct = share * 100;
  if (pct < 10) return `${Number(pct.toFixed(1))}%`;
  return `${Math.round(pct)}%`;
}

/** A count, short: 950, 1.2k, 34k, 1.5M. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 10_000) return `${Number((n / 1000).toFixed(1))}k`;
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${Number((n / 1_000_000).toFixed(1))}M`;
}

/** Bytes, short: 512 B, 1.5 KB, 3.2 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Number((n / 1024).toFixed(1))} KB`;
  return `${Number((n / 1024 / 1024).toFixed(1))} MB`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** An instant in local time: "2026-12-01 09:04:05" (with milliseconds when `ms`). */
export function formatTime(epochMs: number | null | undefined, ms = false): string {
  if (epochMs === null || epochMs === undefined) return '–';
  const d = new Date(epochMs);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time}${ms ? `.${pad(d.getMilliseconds(), 3)}` : ''}`;
}

/** How long ago (or in how long): "just now", "5 s ago", "3 min ago", "in 2 h". */
export function formatAgo(epochMs: number, now: number): string {
  const delta = now - epochMs;
  const abs = Math.abs(delta);
  if (abs < 1000) return 'just now';
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return delta >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** The `points` of an SVG polyline drawing `values` in a `width` × `height` box (0 at the bottom). */
export function sparkPoints(values: readonly number[], width: number, height: number): string {
  if (!values.length) return '';
  const max = Math.max(1, ...values);
  const dx = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${round1(i * dx)},${round1(height - 1 - (v / max) * (height - 2))}`).join(' ');
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Quotes `text` for a POSIX shell. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A recorded request, as the history shows it. */
export interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  encoding: 'utf8' | 'base64' | null;
}

/** Headers curl sets itself or that must not be replayed (hop-by-hop, kumo's own, redacted). */
const SKIPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);

/** A curl command that replays `r` (a base64 body is decoded by the shell). */
export function curlCommand(r: CurlRequest): string {
  const parts = ['curl'];
  if (r.method !== 'GET' || (r.body !== null && r.body !== '')) parts.push('-X', shellQuote(r.method));
  parts.push(shellQuote(r.url));
  for (const [name, value] of Object.entries(r.headers)) {
    if (SKIPPED_HEADERS.has(name) || name.startsWith('x-kumo-') || value === '[redacted]') continue;
    parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  if (r.body !== null && r.body !== '') {
    if (r.encoding === 'base64')
      return `printf %s ${shellQuote(r.body)} | base64 -d | ${parts.join(' ')} --data-binary @-`;
    parts.push('--data-binary', shellQuote(r.body));
  }
  return parts.join(' ');
}

/** Parses "Name: value" lines (blank lines ignored); throws on a line without a colon. */
export function parseHeaderLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line ${i + 1} has no "name: value" (${line})`);
    out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** Sort keys of the functions view. */
export type SortKey = 'name' | 'runtime' | 'count' | 'errorRate' | 'p95' | 'coldShare' | 'instances';

/** A row of the functions view (the fields sorting and search look at). */
export interface FunctionRow {
  name: string;
  runtime: string | null;
  count: number;
  errorRate: number;
  p95: number;
  coldShare: number;
  instances: { total: number };
}

/** The rows whose name or runtime contains `search` (case-insensitive), sorted by `key`. */
export function filterAndSort<T extends FunctionRow>(
  rows: readonly T[],
  search: string,
  key: SortKey,
  descending: boolean,
): T[] {
  const needle = search.trim().toLowerCase();
  const value = (r: T): number | string =>
    key === 'name'
      ? r.name
      : key === 'runtime'
        ? (r.runtime ?? '')
        : key === 'instances'
          ? r.instances.total
          : r[key];
  const picked = needle
    ? rows.filter((r) => r.name.includes(needle) || (r.runtime ?? '').includes(needle))
    : [...rows];
  return picked.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return (descending ? -c : c) || a.name.localeCompare(b.name);
  });
}

/** The windows a function's charts offer, with the bucket step each uses. */
export const WINDOWS: readonly { since: string; step: string; label: string }[] = [
  { since: '1h', step: '1m', label: '1 hour' },
  { since: '6h', step: '10m', label: '6 hours' },
  { since: '24h', step: '30m', label: '24 hours' },
  { since: '7d', step: '6h', label: '7 days' },
];
