/** core: domain types, the manifest schema and the error registry. Pure: no I/O. */
export * from './errors.ts';
export * from './duration.ts';
export * from './name.ts';
export * from './manifest.ts';
export type * from './types.ts';
export type * from './logger.ts';
