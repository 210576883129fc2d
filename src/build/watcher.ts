/**
 * The watched deploy folder (`kumo up --watch DIR`), after ShortedFaaS's /deploy folder: every
 * folder placed in DIR is deployed as the function of the same name, redeployed when its files
 * change (debounced; identical content makes no new version) and deleted when the folder goes. A
 * folder that fails to build leaves the previous version serving; the failure is logged.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FUNCTION_NAME, type ServerLog } from '../core/index.ts';

/** What the watcher does with a folder; the server wires these to the deploy and delete paths. */
export interface WatcherDeps {
  dir: string;
  deploy(folder: string, name: string): Promise<{ version: number; created: boolean }>;
  remove(name: string): Promise<void>;
  /** Whether a function of that name exists (a vanished folder deletes only what exists). */
  exists(name: string): boolean;
  log: ServerLog;
  /** Quiet time after the last change before deploying (default 300 ms). */
  debounceMs?: number;
  /** Told after each deploy, removal or failure (tests wait on it). */
  onSettled?(event: {
    name: string;
    outcome: 'deployed' | 'unchanged' | 'removed' | 'failed';
    error?: unknown;
  }): void;
}

/** Watches one folder of function folders. */
export class DeployWatcher {
  private readonly d: WatcherDeps;
  private watcher: FSWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per name: the sync running now, and whether another must follow it. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private closed = false;

  constructor(deps: WatcherDeps) {
    this.d = deps;
  }

  /** Deploys every folder present now, then follows changes. */
  async start(): Promise<void> {
    this.watcher = watch(this.d.dir, { recursive: true }, (_event, file) => {
      const top = file?.toString().split(path.sep)[0];
      if (top) this.schedule(top);
    });
    this.watcher.on('error', (err) =>
      this.d.log.error('deploy folder watcher failed', { dir: this.d.dir, error: String(err) }),
    );
    for (const entry of await readdir(this.d.dir, { withFileTypes: true })) {
      if (entry.isDirectory()) this.schedule(entry.name, 0);
    }
  }

  /** Stops watching and waits for the syncs in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private schedule(name: string, delay = this.d.debounceMs ?? 300): void {
    if (this.closed || name.startsWith('.')) return;
    clearTimeout(this.timers.get(name));
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        this.kick(name);
      }, delay),
    );
  }

  private kick(name: string): void {
    if (this.running.has(name)) {
      this.again.add(name);
      return;
    }
    const run = this.sync(name).finally(() => {
      this.running.delete(name);
      if (this.again.delete(name) && !this.closed) this.kick(name);
    });
    this.running.set(name, run);
  }

  /** Brings the function `name` in line with its folder. */
  private async sync(name: string): Promise<void> {
    const folder = path.join(this.d.dir, name);
    const isDir = (await stat(folder).catch(() => undefined))?.isDirectory() ?? false;
    if (!FUNCTION_NAME.test(name)) {
      if (isDir)
        this.d.log.warn(
          'deploy folder: skipping a folder whose name is not a function name (a-z, 0-9, "-")',
          { folder },
        );
      return;
    }
    try {
      if (!isDir) {
        if (!this.d.exists(name)) return;
        await this.d.remove(name);
        this.d.log.info('deploy folder: removed', { function: name });
        this.d.onSettled?.({ name, outcome: 'removed' });
        return;
      }
      const result = await this.d.deploy(folder, name);
      this.d.onSettled?.({ name, outcome: result.created ? 'deployed' : 'unchanged' });
    } catch (err) {
      this.d.log.warn('deploy folder: deploy failed; the previous version keeps serving', {
        function: name,
        error: err instanceof Error ? err.message : String(err),
      });
      this.d.onSettled?.({ name, outcome: 'failed', error: err });
    }
  }
}
