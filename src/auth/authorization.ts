/**
 * Reading the credential of a request: `Authorization: Bearer KEY` or `Authorization: SharedSecret
 * KEY` (scheme names are case-insensitive, RFC 9110 §11.1), and removing a kumo key from a request
 * before it reaches a function.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { KEY_PREFIX } from './api-key.ts';

/** The schemes kumo accepts, lower-cased. */
const SCHEMES = new Set(['bearer', 'sharedsecret']);

/** The token of an `Authorization` header in an accepted scheme, or undefined. */
export function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(value);
  if (!m || !SCHEMES.has((m[1] ?? '').toLowerCase())) return undefined;
  return m[2];
}

/** Whether the request carries a kumo key (well-formed or not) as its credential. */
export function carriesKumoKey(headers: IncomingHttpHeaders): boolean {
  return credentialOf(headers)?.startsWith(KEY_PREFIX) ?? false;
}

/**
 * Removes `Authorization` from `req` when its credential is a kumo key, so that neither the
 * function nor anything recording the request (history, the async queue) ever sees the caller's
 * key. Any other Authorization value is the caller's business with the function and stays.
 */
export function stripKumoKey(req: IncomingMessage): void {
  if (!carriesKumoKey(req.headers)) return;
  delete req.headers.authorization;
  // rawHeaders feeds headersDistinct and anything reading the wire form: drop the pair there too.
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if ((raw[i] ?? '').toLowerCase() === 'authorization') raw.splice(i, 2);
  }
}
