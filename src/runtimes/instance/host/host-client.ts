/**
 * The instance's end of the host channel: HTTP over the Unix socket KUMO_HOST_SOCKET, which the
 * platform opened for this instance alone in its private socket folder (so the platform knows who
 * calls without any token). Shims use it for `call(plugin, action, payload)` and to report a
 * limit violation for the server log. Imports only node builtins: sandboxes mount this folder.
 */
import { Agent, request } from 'node:http';

/** A plugin refused the call or failed; `code` is a kumo error code. */
export class PluginCallError extends Error {
  readonly code: string;
  /** The HTTP status of the refusal (403 not listed, 404 no such plugin, 400 bad call, 500 failure). */
  readonly status: number;

  constructor(code: string, message: string, status = 500) {
    super(message);
    this.name = 'PluginCallError';
    this.code = code;
    this.status = status;
  }
}

/** A client of one instance's host channel. */
export class HostClient {
  private readonly socketPath: string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(socketPath: string | undefined) {
    this.socketPath = socketPath || undefined;
  }

  /** Calls `action` of `plugin` with `payload` for `invocationId`; resolves with the plugin's result. */
  async call(
    plugin: string,
    action: string,
    payload: unknown,
    invocationId: string | undefined,
  ): Promise<unknown> {
    if (!this.socketPath) {
      throw new PluginCallError(
        'plugin_not_allowed',
        `call('${plugin}', …): this function lists no plugins; add "plugins: [${plugin}]" to kumo.yaml`,
        403,
      );
    }
    const { status, body } = await this.post('/call', {
      plugin,
      action,
      payload: payload ?? null,
      invocationId,
    });
    const parsed = JSON.parse(body || '{}') as {
      result?: unknown;
      error?: { code?: string; message?: string };
    };
    if (status >= 400 || parsed.error) {
      throw new PluginCallError(
        parsed.error?.code ?? 'plugin_error',
        parsed.error?.message ?? `plugin call failed with HTTP ${status}`,
        status,
      );
    }
    return parsed.result;
  }

  /** Tells the platform that an invocation broke a limit (for the server log); never throws. */
  async reportViolation(kind: 'memory' | 'time', invocationId: string): Promise<void> {
    if (!this.socketPath) return;
    await this.post('/event', { type: 'violation', kind, invocationId }).catch(() => undefined);
  }

  private post(path: string, value: unknown): Promise<{ status: number; body: string }> {
    const data = Buffer.from(JSON.stringify(value));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': data.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) =>
        reject(new PluginCallError('plugin_error', `the host channel failed: ${err.message}`)),
      );
      req.end(data);
    });
  }
}
