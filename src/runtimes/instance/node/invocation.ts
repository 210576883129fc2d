/**
 * What every handler-style adapter receives: the request as Node parsed it, its response, and
 * the invocation around it (id, deadline, the buffered body, the function's variables).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One invocation as the shim sees it. */
export interface Invocation {
  /** From `x-kumo-invocation-id` (a fresh UUID when called without one, e.g. by hand). */
  id: string;
  /** Epoch ms after which the platform kills the instance, from `x-kumo-deadline`. */
  deadline: number;
  /** The whole request body; the gateway buffers it, so it is always complete. */
  body: Buffer;
  /** The function's own variables, from its manifest. */
  vars: Record<string, string>;
  functionName: string;
  version: string;
  memoryMb: number;
  /** Keeps the instance alive on shutdown until `promise` settles (fetch-style `ctx.waitUntil`). */
  waitUntil(promise: unknown): void;
}

/** Serves one invocation in one handler style; a rejection becomes a 500 handler_error. */
export type Adapter = (req: IncomingMessage, res: ServerResponse, invocation: Invocation) => Promise<void>;

/** A user's handler: any function, called with the arguments of its style. */
export type HandlerFunction = (...args: unknown[]) => unknown;
