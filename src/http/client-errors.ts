/**
 * What the server answers when a connection fails before a route could (Node's 'clientError'):
 * a request whose headers or body did not arrive within the timeouts (408 request_timeout), headers
 * over Node's limit (431), or a malformed request (400), as the same JSON error every route sends,
 * then the connection is closed. Node's own answers are bare status lines.
 */
import type { Duplex } from 'node:stream';
import { KumoError } from '../core/index.ts';

/** How long a refused connection may take to read its answer before it is destroyed. */
const LINGER_MS = 1000;

/** Sockets cut by a request timeout, so a body read they broke says why. */
const cut = new WeakSet<Duplex>();

/** Whether `socket` was closed by the request timeout. */
export function timedOut(socket: Duplex): boolean {
  return cut.has(socket);
}

/** How a failed connection is reported to the server log. */
export type ClientErrorKind = 'headers_timeout' | 'body_timeout' | 'headers_too_large' | 'bad_request';

/**
 * Answers `err` on `socket` (when nothing was written on it yet) and closes it; returns what
 * happened, or undefined for a connection the client reset itself (nothing to answer or log).
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Duplex,
): ClientErrorKind | undefined {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    socket.destroy();
    return undefined;
  }
  let kind: ClientErrorKind;
  let error: KumoError;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    cut.add(socket);
    // Node has made the response object once the headers were read: then it was the body that was slow.
    kind = hasResponse(socket) ? 'body_timeout' : 'headers_timeout';
    error = new KumoError(
      'request_timeout',
      kind === 'headers_timeout'
        ? "the request headers did not arrive within the server's headers timeout"
        : "the request body did not arrive within the server's request timeout",
    );
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    kind = 'headers_too_large';
    error = new KumoError('headers_too_large', 'the request headers are larger than the server accepts');
  } else {
    kind = 'bad_request';
    error = new KumoError('bad_request', 'the request is not valid HTTP/1.1');
  }
  // Nothing may be written once a response has begun (bytesWritten counts earlier keep-alive answers too).
  if (!socket.writable || responseOf(socket)?.headersSent) {
    socket.destroy();
    return kind;
  }
  const body = JSON.stringify(error.toBody());
  const answer =
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  if (kind === 'body_timeout') {
    // A route is reading this request: the socket must go now, before more of the body arrives.
    socket.write(answer);
    socket.destroy();
    return kind;
  }
  // end(), not destroy(): closing at once with the client's bytes unread sends a reset, which can
  // reach the client before the answer does. The socket is destroyed shortly after in any case.
  socket.end(answer);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
  return kind;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Whether Node made a response object for the socket's request (its headers were read). */
function hasResponse(socket: Duplex): boolean {
  return responseOf(socket) !== undefined;
}

/** Node's own field: the ServerResponse of the socket's current request, if any. */
function responseOf(socket: Duplex): { headersSent: boolean } | undefined {
  return (socket as Duplex & { _httpMessage?: { headersSent: boolean } | null })._httpMessage ?? undefined;
}
