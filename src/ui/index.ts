/** ui: the web console at /ui — its client sources (client/, built with esbuild) and their serving. */
export { buildConsoleAssets, type Asset } from './console-assets.ts';
export { ConsoleHandler, CONSOLE_CSP, CONSOLE_HEADERS, type ConsoleOptions } from './console-handler.ts';
