/** core: domain types, the manifest schema and the error registry. Pure: no I/O. */
export * from './errors.ts';
export * from './duration.ts';
export * from './name.ts';
export * from './alias.ts';
export * from './api-route.ts';
export * from './manifest.ts';
export { PLUGIN_NAME, LUA_LIMITS, splitCommandLine } from './runtime-fields.ts';
export * from './schedule.ts';
export { MAX_SCHEDULES, parseScheduleEntry, scheduleBody } from './schedule-field.ts';
export * from './invocation.ts';
export * from './access.ts';
export { ACCESS_LEVELS, RATE_LIMITS, type AccessLevel, type RateLimit } from './access-fields.ts';
export type * from './types.ts';
export type * from './logger.ts';
export { LogThrottle, type LogThrottleOptions } from './log-throttle.ts';
export * from './build-limits.ts';
export * from './instance-protocol.ts';
export * from './plugin-quotas.ts';
