/**
 * IPv4 addresses hidden inside IPv6 ones. A translator or relay turns these into IPv4 traffic
 * (NAT64, 6to4, Teredo) or the host's own stack does (IPv4-mapped), so `64:ff9b::a9fe:a9fe`
 * reaches 169.254.169.254 as surely as the plain address: the callback policy judges each
 * embedded IPv4 as if it had been written.
 */
import net from 'node:net';

/** The 16 bytes of an IPv6 address (zone id dropped), or undefined when it is not one. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  const address = text.split('%')[0] ?? '';
  if (!net.isIPv6(address)) return undefined;
  let head = address;
  const tail: number[] = [];
  // A trailing dotted quad holds the last 32 bits.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) {
    tail.push(...dotted[1].split('.').map(Number));
    head = address.slice(0, -dotted[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [left = '', right] = head.split('::');
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const zeros = 8 - tail.length / 2 - l.length - r.length;
  const words = [...l, ...new Array<number>(right === undefined ? 0 : zeros).fill(0), ...r];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  bytes.set(tail, 12);
  return bytes;
}

const quad = (b: Uint8Array, at: readonly number[], xor = 0) => at.map((i) => (b[i] ?? 0) ^ xor).join('.');
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/**
 * Every IPv4 address `address` (IPv6) may stand for: IPv4-mapped `::ffff:0:0/96`, IPv4-translated
 * `::ffff:0:0:0/96`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48` (RFC 8215:
 * the operator picks the embedding, so each of /48, /56, /64 and /96 is read), 6to4 `2002::/16`,
 * Teredo `2001::/32` (server and inverted client) and ISATAP interface ids. Empty for others.
 */
export function embeddedIPv4(address: string): string[] {
  const b = ipv6Bytes(address);
  if (!b) return [];
  const found: string[] = [];
  const w = (i: number) => ((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0);
  if (zero(b, 0, 10) && w(5) === 0xffff) found.push(quad(b, [12, 13, 14, 15])); // mapped
  if (zero(b, 0, 8) && w(4) === 0xffff && w(5) === 0) found.push(quad(b, [12, 13, 14, 15])); // translated
  if (zero(b, 0, 12) && !zero(b, 12, 15)) found.push(quad(b, [12, 13, 14, 15])); // compatible (not :: or ::1)
  if (w(0) === 0x64 && w(1) === 0xff9b && zero(b, 4, 12)) found.push(quad(b, [12, 13, 14, 15]));
  if (w(0) === 0x64 && w(1) === 0xff9b && w(2) === 1) {
    found.push(
      quad(b, [6, 7, 9, 10]), // /48
      quad(b, [7, 9, 10, 11]), // /56
      quad(b, [9, 10, 11, 12]), // /64
      quad(b, [12, 13, 14, 15]), // /96
    );
  }
  if (w(0) === 0x2002) found.push(quad(b, [2, 3, 4, 5]));
  if (w(0) === 0x2001 && w(1) === 0) found.push(quad(b, [4, 5, 6, 7]), quad(b, [12, 13, 14, 15], 0xff));
  if ((w(4) & 0xfdff) === 0 && w(5) === 0x5efe) found.push(quad(b, [12, 13, 14, 15])); // ISATAP
  return [...new Set(found)];
}

/** Whether `address` is the unspecified address (`::` or `0.0.0.0`): connecting to it reaches this host. */
export function isUnspecified(address: string): boolean {
  if (net.isIPv4(address)) return address === '0.0.0.0';
  const b = ipv6Bytes(address);
  return b !== undefined && zero(b, 0, 16);
}
