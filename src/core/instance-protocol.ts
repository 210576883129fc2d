/**
 * The instance protocol (DESIGN.md), in one place for both of its sides: the host (launch plans,
 * the driver, the gateway, the log sink) and the code that runs inside an instance (the shims in
 * `runtimes/instance/`). It holds every name the two sides share — control variables, request headers, the
 * control message on fd 3, the log-tag format — and the one reading of an invocation's id and
 * deadline. Pure: no I/O, nothing imported, so every shim bundle can include it.
 *
 * The python shim (`runtimes/instance/python/shim.py`) cannot import it and repeats the names it uses;
 * instance-protocol.test.ts checks that every name it repeats is spelled as here.
 */

/** The control variables a launch plan sets and a shim takes out of its environment at start. */
export const ENV = {
  /** The Unix socket the shim serves the function on. */
  socket: 'KUMO_SOCKET',
  /** The host channel (plugins), when the function lists any. */
  hostSocket: 'KUMO_HOST_SOCKET',
  functionName: 'KUMO_FUNCTION',
  version: 'KUMO_VERSION',
  /** The memory limit in MB. */
  memory: 'KUMO_MEMORY',
  /** The timeout of one invocation in ms (the deadline when a request carries none). */
  timeout: 'KUMO_TIMEOUT',
  /** The names of the function's own variables, comma-separated (all others are kumo's). */
  envKeys: 'KUMO_ENV_KEYS',
  /** node and python: the module to load, its export and handler style. */
  entry: 'KUMO_ENTRY',
  exportName: 'KUMO_EXPORT',
  style: 'KUMO_STYLE',
  /** python: extra import paths (os.pathsep-separated). */
  paths: 'KUMO_PATHS',
  /** exec: the command line, as JSON. */
  command: 'KUMO_COMMAND',
  /** lua: the compiled chunk, the bundle folder, and the VM's own limits. */
  bytecode: 'KUMO_BYTECODE',
  bundle: 'KUMO_BUNDLE',
  luaMemory: 'KUMO_LUA_MEMORY',
  luaTimeout: 'KUMO_LUA_TIMEOUT',
  /** provided: the bootstrap to run and the loopback port of the Runtime API it is given. */
  bootstrap: 'KUMO_BOOTSTRAP',
  runtimeApiPort: 'KUMO_RUNTIME_API_PORT',
  /** provided: the function's ARN, sent as Lambda-Runtime-Invoked-Function-Arn. */
  functionArn: 'KUMO_FUNCTION_ARN',
  /** exec: what the program run for one request is told about it. */
  invocationId: 'KUMO_INVOCATION_ID',
  deadline: 'KUMO_DEADLINE',
  /**
   * Set to "1" when the instance starts as a stem cell: the shim listens on its socket with no
   * function loaded and takes its whole environment from the first request (STEM_ASSIGN).
   */
  stem: 'KUMO_STEM',
} as const;

/**
 * The assignment of a stem cell: the body of the first (and only) request a cell's socket takes
 * before it serves its function, `POST /` with this JSON. The cell replaces its whole environment
 * with `env` (the environment an ordinary start of the version would have had), loads the
 * function and answers with one control message: `{"type":"ready"}` or an error.
 */
export interface StemAssignment {
  env: Record<string, string>;
}

/** The handler styles of node and python (KUMO_STYLE; the manifest's `style`). */
export const HANDLER_STYLES = ['auto', 'fetch', 'node', 'lambda', 'plain'] as const;

/** The control variables every launch plan sets (the rest are a runtime's own). */
export const COMMON_CONTROL = [
  ENV.socket,
  ENV.functionName,
  ENV.version,
  ENV.memory,
  ENV.timeout,
  ENV.envKeys,
] as const;

/** Headers the gateway adds to a request it forwards; a client's own `x-kumo-*` are dropped. */
export const HEADERS = {
  /** The invocation's id (the same on every attempt of an async one). */
  invocationId: 'x-kumo-invocation-id',
  /** Epoch ms after which the platform kills the run. */
  deadline: 'x-kumo-deadline',
  /** 1 for the first run, 2 for the first retry, … */
  attempt: 'x-kumo-attempt',
  /** What started the run: `http`, `async` or `schedule`. */
  trigger: 'x-kumo-trigger',
  scheduleId: 'x-kumo-schedule-id',
  scheduledAt: 'x-kumo-scheduled-at',
  /**
   * `1`: a direct invocation through the Lambda API. A Lambda-style handler gets the body (JSON)
   * as its event and its result goes back as JSON, as on AWS; a thrown error answers 200 with
   * `functionError` set and Lambda's error payload ({errorType, errorMessage, …}).
   */
  lambdaInvoke: 'x-kumo-lambda-invoke',
  /** Response header of a direct Lambda invocation whose handler threw: `Unhandled`. */
  functionError: 'x-kumo-function-error',
} as const;

/** Every `x-kumo-*` header name starts so. */
export const HEADER_PREFIX = 'x-kumo-';

/** The file descriptor of the control pipe from a shim to the driver. */
export const CONTROL_FD = 3;

/** The one message a shim sends the driver on fd 3: ready, or why it could not load. */
export type ControlMessage = { type: 'ready' } | { type: 'error'; code: string; message: string };

/** A request's headers, as node:http gives them. */
type Headers = Record<string, string | string[] | undefined>;

/**
 * The invocation a request carries: its id (`randomId()` when it has none, e.g. a call by hand)
 * and its deadline (now + `timeoutMs` when it has none). Every shim reads it through this.
 */
export function invocationOf(
  headers: Headers,
  timeoutMs: number,
  randomId: () => string,
  now = Date.now(),
): { id: string; deadline: number } {
  const id = headers[HEADERS.invocationId];
  const deadline = Number(headers[HEADERS.deadline]);
  return {
    id: typeof id === 'string' && id !== '' ? id : randomId(),
    deadline: Number.isFinite(deadline) && deadline > 0 ? deadline : now + timeoutMs,
  };
}

/** Starts a log tag (ASCII record separator): never found in ordinary log text. */
export const TAG_START = '\u001e';
/** Ends a log tag (ASCII unit separator). */
export const TAG_END = '\u001f';

/** A log line with its tag removed. */
export interface TaggedLine {
  /** The invocation that wrote the line, or null when it carried no tag. */
  invocationId: string | null;
  text: string;
}

/**
 * Splits a line read from an instance into its invocation id (if tagged) and its text. Inside an
 * invocation, every line an instance writes starts with `\u001e<invocationId>\u001f`, so the host
 * can attribute it even when invocations run concurrently; an untagged line is attributed by the
 * host on its own (to the only invocation in flight, or to none).
 */
export function parseTaggedLine(line: string): TaggedLine {
  if (!line.startsWith(TAG_START)) return { invocationId: null, text: line };
  const end = line.indexOf(TAG_END, TAG_START.length);
  if (end === -1) return { invocationId: null, text: line };
  return { invocationId: line.slice(TAG_START.length, end), text: line.slice(end + TAG_END.length) };
}

/**
 * Prefixes every line of `text` that starts within it with the tag of `invocationId`.
 * `atLineStart` says whether the stream's previous write ended a line; the result says whether
 * this one did, so partial writes (`process.stdout.write('a')`) are tagged once per line.
 */
export function tagText(
  text: string,
  invocationId: string,
  atLineStart: boolean,
): { text: string; atLineStart: boolean } {
  if (text === '') return { text, atLineStart };
  const tag = `${TAG_START}${invocationId}${TAG_END}`;
  const lines = text.split('\n');
  const out = lines.map((line, i) => {
    const startsLine = i === 0 ? atLineStart : true;
    // The piece after a trailing newline is empty: the next write starts that line.
    const isTrailing = i === lines.length - 1 && line === '';
    return startsLine && !isTrailing ? tag + line : line;
  });
  return { text: out.join('\n'), atLineStart: text.endsWith('\n') };
}
