/**
 * Test helpers: a throwaway HTTP server on port 0 that records requests and answers as a test says, and a
 * CliIO that captures what the CLI prints. Only for checking the CLI's own requests and output; the real
 * server is exercised by the end-to-end tests.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import type { CliIO } from './io.ts';

/** One request the fake server received. */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A running fake server. */
export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server on a free port that records each request, then lets `respond` answer it. */
export async function startFakeServer(
  respond: (req: RecordedRequest, res: ServerResponse) => void | Promise<void>,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const recorded = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://fake'),
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(recorded);
    await respond(recorded, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** Answers 200 with NDJSON lines. */
export function sendNdjson(res: ServerResponse, values: readonly unknown[]): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.end(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
}

/** A CliIO whose output is collected as text. */
export interface CapturedIO {
  io: CliIO;
  stdout(): string;
  stderr(): string;
}

/** A CliIO for tests: captured stdout/stderr, the given env and cwd, and stdin from `input` (not a TTY unless said). */
export function captureIO(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; tty?: boolean } = {},
): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = collector(out);
  const stderr = collector(err);
  const stdin = Object.assign(Readable.from([Buffer.from(options.input ?? '')]), {
    isTTY: options.tty ?? false,
  });
  return {
    io: { stdout, stderr, stdin, env: options.env ?? {}, cwd: options.cwd ?? process.cwd() },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** A stream that records each write synchronously, so the text is complete when the command resolves. */
function collector(into: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      into.push(chunk.toString('utf8'));
      done();
    },
  });
}
