/** telemetry: function logs, the server log, invocation attribution. */
export { LogSink, type LogSinkOptions } from './log-sink.ts';
export { InvocationTracker } from './attribution.ts';
export { createServerLog } from './server-log.ts';
