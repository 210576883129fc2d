/** Hop-by-hop headers (RFC 9110 §7.6.1) and the headers kumo owns, removed when proxying. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { HEADER_PREFIX } from '../core/index.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Copies `headers` without hop-by-hop ones, those named by Connection, and (for requests) kumo's own. */
export function endToEnd(headers: IncomingHttpHeaders, dropKumo: boolean): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key)) continue;
    // A client must not forge the platform's headers (invocation id, deadline).
    if (dropKumo && key.startsWith(HEADER_PREFIX)) continue;
    out[key] = value;
  }
  return out;
}
