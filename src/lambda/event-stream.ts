/**
 * AWS's event stream encoding (`application/vnd.amazon.eventstream`), the framing of
 * InvokeWithResponseStream's answer: each message is a prelude (total and header lengths, CRC32),
 * string headers (`:event-type`, `:content-type`, `:message-type`), the payload, and a CRC32 of
 * the whole message.
 */
import { crc32 } from 'node:zlib';

/** Header value type 7: a string with a 2-byte length. */
const STRING_TYPE = 7;

/** One event message. */
export function eventMessage(eventType: string, contentType: string, payload: Buffer): Buffer {
  const headers = Buffer.concat(
    [
      [':event-type', eventType],
      [':content-type', contentType],
      [':message-type', 'event'],
    ].map(([name, value]) => header(name as string, value as string)),
  );
  const total = 12 + headers.length + payload.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude), 0);
  const body = Buffer.concat([prelude, preludeCrc, headers, payload]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, messageCrc]);
}

function header(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const v = Buffer.from(value, 'utf8');
  const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
  out.writeUInt8(n.length, 0);
  n.copy(out, 1);
  out.writeUInt8(STRING_TYPE, 1 + n.length);
  out.writeUInt16BE(v.length, 2 + n.length);
  v.copy(out, 4 + n.length);
  return out;
}
