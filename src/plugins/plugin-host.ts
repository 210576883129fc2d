/**
 * The platform's end of the host channel: one small HTTP server per instance, on a Unix socket in
 * a folder of its own that only this instance's sandbox mounts (read-only). The socket itself says
 * which function calls: no token to steal.
 *   POST /call  {plugin, action, payload, invocationId} → 200 {result} | {error:{code,message}}
 *   POST /event {type:"violation", kind:"memory"|"time", invocationId} → 204, logged on the server:
 *               Function 'NAME' aborted after violating memory constraints
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { KumoError, LogThrottle, type FunctionSpec, type ServerLog } from '../core/index.ts';
import { readBody, sendError, sendJson } from '../http/index.ts';
import { RawJson } from './plugin.ts';
import type { PluginRegistry } from './registry.ts';

/** The file name of the host socket inside an instance's socket folder. */
export const HOST_SOCKET_NAME = 'host.sock';
/** Largest call an instance may send (a document or value plus its envelope). */
const MAX_CALL_BYTES = 2 * 1024 * 1024;

/** Which instance a channel serves. */
export interface ChannelTarget {
  functionName: string;
  version: number;
  spec: FunctionSpec;
}

/** An open channel: give `socketPath` to the instance, `close()` when it is gone. */
export interface HostChannel {
  socketPath: string;
  close(): Promise<void>;
}

/** What the host needs. */
export interface PluginHostDeps {
  registry: PluginRegistry;
  log: ServerLog;
  now?: () => number;
}

/** Opens host channels for instances. */
export class PluginHost {
  private readonly d: PluginHostDeps;
  private readonly throttled: LogThrottle;

  constructor(deps: PluginHostDeps) {
    this.d = deps;
    this.throttled = new LogThrottle(deps.log, deps.now ? { now: deps.now } : {});
  }

  /**
   * Opens the channel of an instance in the new folder `dir` (removed on close). The instance
   * gets the folder read-only: connecting to a Unix socket needs no write access to its mount.
   * Folder and socket are kumo's alone (0700, 0600) until the driver hands them to the instance's
   * own host user (`InstanceSpec.ownDirs`): no other instance and no other local user can connect.
   */
  async open(dir: string, target: ChannelTarget): Promise<HostChannel> {
    this.d.registry.checkListed(target.spec);
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700);
    const socketPath = path.join(dir, HOST_SOCKET_NAME);
    const server = createServer((req, res) => void this.handle(target, req, res));
    await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Connecting needs write permission on the socket: its owner's alone.
    await chmod(socketPath, 0o600);
    return {
      socketPath,
      close: async () => {
        await closeServer(server);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  private async handle(target: ChannelTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST')
        throw new KumoError('method_not_allowed', `${req.method} is not allowed on the host channel`);
      const body = parseJson(await readBody(req, MAX_CALL_BYTES, 'plugin call'));
      if (req.url === '/call') return await this.call(target, body, res);
      if (req.url === '/event') return this.event(target, body, res);
      throw new KumoError('route_not_found', `no host channel route ${req.url}`);
    } catch (err) {
      const error = sendError(res, err);
      if (error.code === 'plugin_quota_exceeded' || error.code === 'docs_query_too_large') {
        // A function hammering its quota must not flood the log: a few lines a minute each.
        this.throttled.warn(`${error.code}:${target.functionName}`, 'plugin call refused', {
          function: target.functionName,
          code: error.code,
          error: error.message,
        });
      } else if (error.code === 'internal_error') {
        this.d.log.error('plugin call failed', {
          function: target.functionName,
          error: String((err as Error)?.stack ?? err),
        });
      }
    }
  }

  private async call(
    target: ChannelTarget,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): Promise<void> {
    const plugin = typeof body.plugin === 'string' ? body.plugin : '';
    const action = typeof body.action === 'string' ? body.action : '';
    if (!plugin || !action)
      throw new KumoError('plugin_error', 'call(plugin, action, payload): plugin and action must be strings');
    const result = await this.d.registry.call(target.spec, plugin, action, body.payload, {
      function: target.functionName,
      version: target.version,
      invocationId: typeof body.invocationId === 'string' ? body.invocationId : undefined,
      now: (this.d.now ?? Date.now)(),
    });
    if (result instanceof RawJson) {
      const body = `{"result":${result.text}}`;
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    sendJson(res, 200, { result: result ?? null });
  }

  private event(target: ChannelTarget, body: Record<string, unknown>, res: ServerResponse): void {
    if (body.type === 'violation' && (body.kind === 'memory' || body.kind === 'time')) {
      this.d.log.warn(`Function '${target.functionName}' aborted after violating ${body.kind} constraints`, {
        function: target.functionName,
        version: target.version,
        invocation: typeof body.invocationId === 'string' ? body.invocationId : undefined,
      });
    }
    res.writeHead(204).end();
  }
}

function parseJson(data: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new KumoError('bad_request', 'the host channel takes a JSON object');
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
