/**
 * Where things are, as an instance or a build sees them. In a sandbox every path is neutral:
 * the bundle is at /var/task (Lambda's LAMBDA_TASK_ROOT), kumo's runtime pieces under /opt/kumo,
 * the sockets under /run, so listing `/` shows nothing of the host's data directory, checkout or
 * other functions. Without a sandbox (--insecure-no-sandbox) the host's own paths are used.
 *
 * On the host a build folder holds `task/` (the tenant's built tree) and `launch.json` (kumo's
 * launch record, kept outside the tree the tenant controls).
 */
import { join } from 'node:path';
import type { LaunchOptions, Mount, PathView } from './runtime.ts';

/** The neutral paths of a sandbox. */
export const NEUTRAL = {
  /** The function's code (read-only at run time, the build's writable tmpfs at build time). */
  task: '/var/task',
  /** The Node installation that runs shims and builds. */
  node: '/opt/kumo/node',
  /** The bundled shims. */
  shims: '/opt/kumo/shims',
  /** The python shim's folder. */
  python: '/opt/kumo/python',
  /** npm's package folder (builds only). */
  npm: '/opt/kumo/npm',
  /** JavaScript packages kumo's shims import (wasmoon, esbuild). */
  lib: '/opt/kumo/lib',
  /** The instance's socket folder (read-write). */
  socketDir: '/run/kumo',
  /** The instance's host-channel folder (plugins, limit reports). */
  hostDir: '/run/kumo-host',
  /** A build's folder of kumo's build proxy socket (builds only, with --build-allow). */
  proxyDir: '/run/kumo-proxy',
} as const;

/** The task folder of a build folder on the host. */
export function taskDir(buildDir: string): string {
  return join(buildDir, 'task');
}

/** The launch record of a build folder on the host. */
export function launchRecordFile(buildDir: string): string {
  return join(buildDir, 'launch.json');
}

/** Collects the mounts of one plan and says where each host path appears. */
export class Placement {
  readonly mounts: Mount[] = [];
  private readonly view: PathView;

  constructor(view: PathView) {
    this.view = view;
  }

  /** Shows host `source` (a folder or file) at `target` in a sandbox; returns the path to use. */
  show(source: string, target: string): string {
    const at = this.view.neutral ? target : source;
    if (!this.mounts.some((m) => m.source === source && m.target === at))
      this.mounts.push({ source, target: at });
    return at;
  }
}

/** The task folder of `options` as the instance sees it, with its mount recorded. */
export function showTask(place: Placement, options: LaunchOptions): string {
  return place.show(taskDir(options.buildDir), NEUTRAL.task);
}
