/**
 * The host side of a stem cell's assignment (core/instance-protocol.ts StemAssignment): one
 * `POST /` on the cell's socket carrying the version's environment, answered with one control
 * message once the function loaded (or failed to).
 */
import http from 'node:http';
import type { ControlMessage, StemAssignment } from '../../core/index.ts';

/** The largest answer read (a control message with a load error and its stack). */
const MAX_ANSWER = 64 * 1024;

/** Sends `assignment` to the cell listening on `socketPath`; rejects when the connection breaks or times out. */
export function sendAssignment(
  socketPath: string,
  assignment: StemAssignment,
  timeoutMs: number,
): Promise<ControlMessage> {
  const body = Buffer.from(JSON.stringify(assignment));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method: 'POST',
        path: '/',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<ControlMessage>;
            if (msg.type === 'ready') return resolve({ type: 'ready' });
            const e = msg as { code?: unknown; message?: unknown };
            resolve({
              type: 'error',
              code: typeof e.code === 'string' ? e.code : 'handler_error',
              message: typeof e.message === 'string' ? e.message : 'the function failed to load',
            });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the function was not loaded after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
