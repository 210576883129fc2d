/** Exponential backoff with a little jitter, shared by run retries and callback deliveries. */

/**
 * The wait before retry number `attempt` (1 for the first retry): `baseMs` doubled each time,
 * capped at `maxMs`, stretched by up to 20% so that retries of a burst spread out. Never less
 * than the plain exponential value, so a retry is never earlier than documented.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const plain = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(plain * (1 + 0.2 * random()));
}
