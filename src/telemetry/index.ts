/** telemetry: function logs, the server log, invocation attribution. */
export { LogSink, type LogSinkOptions } from './log-sink.ts';
export { InvocationTracker } from './attribution.ts';
export { createServerLog } from './server-log.ts';
export { OutputBudget, type OutputVerdict } from './output-budget.ts';
export { HistoryRecorder, type HistoryOptions } from './history.ts';
export { Metrics, type GaugeSnapshot, type InvocationSample } from './metrics.ts';
export { InstanceTimeline, type InstanceTimelineOptions } from './instance-timeline.ts';
