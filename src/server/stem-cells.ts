/**
 * Stem cells: started, sandboxed instances with no function yet — the runtime loaded, no tenant
 * code, their own cgroup and host uid — kept per launch shape so a cold start only has to hand
 * one its version (OpenWhisk keeps pre-warmed containers the same way). A cell is started from
 * the plan an ordinary start of a version would run, with the version taken out: its code folder
 * is an empty folder of its own mounted read-only at /var/task, its host-channel folder is empty,
 * its environment holds only what the runtime reads as it starts. At assignment kumo copies the
 * version's built tree into the code folder, opens its host channel there, gives both to the
 * cell's host uid and sends the version's environment over the cell's socket; the shim loads the
 * function and answers. A cell serves that one version for its whole life, like any instance.
 *
 * Cells are kept per *shape* (command, arguments, mounts, startup variables and limits, all equal
 * to the ordinary plan's), so the limits a cell runs under were written to its cgroup, and its
 * /tmp sized, exactly as for an ordinary start. A shape gets cells once a version of it started
 * (a deploy starts one), one at first, more while cold starts find it empty; the total is bounded
 * (`--stem-cells`), and the least recently wanted shape gives up its cells first. Functions with
 * `network: true`, or whose variables change how the runtime starts (NODE_OPTIONS, PYTHONPATH…),
 * take the ordinary path, and so do runtimes whose shim cannot start unassigned (a custom
 * runtime's `bootstrap` is the tenant's own program: `LaunchPlan.stemCell` unset).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { ServerLog } from '../core/index.ts';
import { ENV } from '../core/index.ts';
import type { Driver, Instance, InstanceLimits, InstanceSpec } from '../drivers/index.ts';
import { NEUTRAL, type LaunchPlan, type Mount } from '../runtimes/index.ts';

/** Variables a runtime reads as it starts (so a cell must start with the version's values). */
const STARTUP_VARIABLE = /^(NODE_(?!ENV$)|UV_|PYTHON|LD_|OPENSSL_|SSL_|MALLOC_|GLIBC|HOME$)/;

/** How long a cell may take to start, and a version to load in one. */
const CELL_START_TIMEOUT_MS = 15_000;

/** How long after a cell was taken its replacement starts (the cold start runs first). */
const REFILL_DELAY_MS = 100;

/**
 * A replacement starts once the host has this much CPU idle (cores' worth, pool/host-cpu.ts):
 * booting a runtime is ~100 ms of CPU, and during a burst of cold starts it would only slow the
 * ordinary starts down (measured: 50 first requests at once took longer with cells than without,
 * the refills competing with them). Checked every REFILL_DELAY_MS, for at most REFILL_PATIENCE_MS.
 */
const REFILL_SPARE_CORES = 0.75;
const REFILL_PATIENCE_MS = 10_000;

/** After a cell of a shape failed to start, no new one of that shape for this long. */
const FAILURE_PAUSE_MS = 30_000;

/** What a cell of one shape runs: the ordinary plan of a version without the version. */
export interface Blueprint {
  key: string;
  runtime: string;
  launch: LaunchPlan;
  limits: InstanceLimits;
}

/** A cell handed to a version: what the instance factory completes. */
export interface TakenCell {
  instance: Instance;
  /** The host folder shown at /var/task: the version's tree is copied in. */
  taskDir: string;
  /** The host folder shown at /run/kumo-host: the version's host channel is opened in it. */
  hostDir: string;
  /** Sets where the cell's output lines go from now on. */
  setOutput(onOutput: InstanceSpec['onOutput']): void;
}

/** Counts for `kumo doctor` and /api/v1 status. */
export interface StemCellStats {
  enabled: boolean;
  /** The most cells kept at once. */
  max: number;
  ready: number;
  starting: number;
  /** Cold starts served by a cell, and by the ordinary path although cells are on. */
  hits: number;
  misses: number;
  shapes: number;
  /** Cells the shapes want but have not started: waiting for idle CPU, a failure pause or room. */
  short: number;
}

interface Cell {
  instance: Instance;
  taskDir: string;
  hostDir: string;
  output: { to: InstanceSpec['onOutput'] | undefined };
}

interface Shape {
  blueprint: Blueprint;
  ready: Cell[];
  starting: number;
  /** How many ready cells this shape should have. */
  target: number;
  lastWanted: number;
  pausedUntil: number;
}

/** What the cells need. */
export interface StemCellsOptions {
  driver: Driver;
  /** Where the cells' socket, code and host-channel folders go. */
  runDir: string;
  /** The most cells kept ready or starting at once (0: stem cells off). */
  max: number;
  log: ServerLog;
  now?: () => number;
  /** The host's idle CPU in cores' worth (undefined: unknown, refill regardless). */
  spareCores?: () => Promise<number | undefined>;
}

/** The pool of stem cells of a server. */
export class StemCells {
  private readonly o: Required<Omit<StemCellsOptions, 'spareCores'>> & Pick<StemCellsOptions, 'spareCores'>;
  private readonly shapes = new Map<string, Shape>();
  private hits = 0;
  private misses = 0;
  private closed = false;
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(options: StemCellsOptions) {
    this.o = { now: Date.now, ...options };
  }

  /** Whether cells are kept at all. */
  get enabled(): boolean {
    return this.o.max > 0;
  }

  /**
   * The blueprint of a version's ordinary plan, or undefined when it must take the ordinary path
   * (network, a runtime that cannot start unassigned, startup variables, no neutral code folder).
   */
  blueprint(runtime: string, launch: LaunchPlan, limits: InstanceLimits): Blueprint | undefined {
    if (!this.enabled || limits.network || !launch.stemCell) return undefined;
    const task = launch.mounts.find((m) => m.target === NEUTRAL.task);
    const socket = launch.env[ENV.socket];
    if (!task || !socket || launch.cwd !== NEUTRAL.task) return undefined;
    const env: Record<string, string> = { [ENV.stem]: '1', [ENV.socket]: socket };
    for (const [k, v] of Object.entries(launch.env)) if (STARTUP_VARIABLE.test(k)) env[k] = v;
    const mounts = launch.mounts
      .filter((m) => m !== task)
      .sort((a, b) => a.target.localeCompare(b.target) || a.source.localeCompare(b.source));
    const shape = { runtime, command: launch.command, args: launch.args, env, mounts, limits };
    return {
      key: JSON.stringify(shape),
      runtime,
      launch: { command: launch.command, args: launch.args, env, cwd: launch.cwd, mounts, stemCell: true },
      limits,
    };
  }

  /** A ready cell of `bp`'s shape, or undefined (the shape is then kept stocked for next time). */
  take(bp: Blueprint): TakenCell | undefined {
    const shape = this.shapeOf(bp);
    shape.lastWanted = this.o.now();
    const cell = shape.ready.shift();
    if (cell) this.hits++;
    else {
      this.misses++;
      // Demand outran the stock: keep one more of this shape (the total stays bounded).
      shape.target = Math.min(shape.target + 1, this.o.max);
    }
    this.refillSoon();
    if (!cell) return undefined;
    return {
      instance: cell.instance,
      taskDir: cell.taskDir,
      hostDir: cell.hostDir,
      setOutput: (to) => (cell.output.to = to),
    };
  }

  /** Keeps `bp`'s shape stocked from now on (a deploy, or a version active at start). */
  prepare(bp: Blueprint): void {
    this.shapeOf(bp);
    this.refill();
  }

  /** Counts for status. */
  stats(): StemCellStats {
    let ready = 0;
    let starting = 0;
    let short = 0;
    for (const s of this.shapes.values()) {
      ready += s.ready.length;
      starting += s.starting;
      short += Math.max(0, s.target - s.ready.length - s.starting);
    }
    return {
      enabled: this.enabled,
      max: this.o.max,
      ready,
      starting,
      hits: this.hits,
      misses: this.misses,
      shapes: this.shapes.size,
      short,
    };
  }

  /** Stops every unassigned cell (assigned ones belong to their pools). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    const cells = [...this.shapes.values()].flatMap((s) => s.ready.splice(0));
    await Promise.all(cells.map((c) => c.instance.stop(1000)));
  }

  private shapeOf(bp: Blueprint): Shape {
    let shape = this.shapes.get(bp.key);
    if (!shape) {
      shape = { blueprint: bp, ready: [], starting: 0, target: 1, lastWanted: this.o.now(), pausedUntil: 0 };
      this.shapes.set(bp.key, shape);
    }
    return shape;
  }

  /** Starts cells where shapes are short, most wanted first, within the bound; evicts to make room. */
  private refill(): void {
    if (this.closed || !this.enabled) return;
    const now = this.o.now();
    const byWant = [...this.shapes.values()].sort((a, b) => b.lastWanted - a.lastWanted);
    for (const shape of byWant) {
      while (shape.ready.length + shape.starting < shape.target && shape.pausedUntil <= now) {
        if (this.total() >= this.o.max && !this.evictFor(shape)) return;
        this.startCell(shape);
      }
    }
  }

  /**
   * Refills once the cold start that took a cell had the cores, and the host has CPU to spare:
   * starting a cell is a process and a runtime booting (tens of ms of CPU), which on a small host
   * would compete with the very assignment it replaces, or with the other cold starts of a burst.
   * Refills already due are merged into one.
   */
  private refillSoon(since = this.o.now()): void {
    if (this.refillTimer || this.closed) return;
    // A reading now, so the next one measures the host over just this delay.
    void this.o.spareCores?.().catch(() => undefined);
    this.refillTimer = setTimeout(() => {
      void this.hostHasRoom().then((room) => {
        this.refillTimer = undefined;
        if (room || this.o.now() - since >= REFILL_PATIENCE_MS) this.refill();
        else this.refillSoon(since);
      });
    }, REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  private async hostHasRoom(): Promise<boolean> {
    const spare = await this.o.spareCores?.().catch(() => undefined);
    return spare === undefined || spare >= REFILL_SPARE_CORES;
  }

  private total(): number {
    let n = 0;
    for (const s of this.shapes.values()) n += s.ready.length + s.starting;
    return n;
  }

  /** Stops a ready cell of a shape wanted less recently than `shape`; false when there is none. */
  private evictFor(shape: Shape): boolean {
    const victims = [...this.shapes.values()]
      .filter((s) => s !== shape && s.ready.length > 0 && s.lastWanted < shape.lastWanted)
      .sort((a, b) => a.lastWanted - b.lastWanted);
    const victim = victims[0];
    const cell = victim?.ready.pop();
    if (!victim || !cell) return false;
    victim.target = Math.max(0, victim.ready.length + victim.starting);
    void cell.instance.stop(1000);
    return true;
  }

  private startCell(shape: Shape): void {
    shape.starting++;
    this.launch(shape.blueprint).then(
      (cell) => {
        shape.starting--;
        if (this.closed) return void cell.instance.stop(1000);
        shape.ready.push(cell);
        // An unassigned cell that dies (it should not) leaves the stock and is replaced.
        void cell.instance.exited.then(() => {
          const i = shape.ready.indexOf(cell);
          if (i === -1) return;
          shape.ready.splice(i, 1);
          this.refill();
        });
      },
      (err: unknown) => {
        shape.starting--;
        shape.pausedUntil = this.o.now() + FAILURE_PAUSE_MS;
        this.o.log.warn('stem cell failed to start', {
          runtime: shape.blueprint.runtime,
          error: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
        });
      },
    );
  }

  /** Starts one cell of `bp`: its own socket, code and host-channel folders, then the sandbox. */
  private async launch(bp: Blueprint): Promise<Cell> {
    const id = `cell-${bp.runtime}-${randomBytes(6).toString('hex')}`;
    const dir = path.join(this.o.runDir, id);
    const taskDir = `${dir}.task`;
    const hostDir = `${dir}.host`;
    const cleanup = () =>
      Promise.all([dir, taskDir, hostDir].map((d) => rm(d, { recursive: true, force: true })));
    await Promise.all([dir, taskDir, hostDir].map((d) => mkdir(d, { recursive: true })));
    const mounts: Mount[] = [
      ...bp.launch.mounts,
      { source: taskDir, target: NEUTRAL.task },
      { source: hostDir, target: NEUTRAL.hostDir },
    ];
    const output: Cell['output'] = { to: undefined };
    try {
      const instance = await this.o.driver.start({
        id,
        functionName: `(stem cell ${bp.runtime})`,
        version: 0,
        launch: { ...bp.launch, env: { ...bp.launch.env }, mounts },
        socketPath: path.join(dir, 'fn.sock'),
        ownDirs: [hostDir, taskDir],
        limits: bp.limits,
        startTimeoutMs: CELL_START_TIMEOUT_MS,
        onOutput: (stream, line) => output.to?.(stream, line),
      });
      void instance.exited.then(cleanup);
      return { instance, taskDir, hostDir, output };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }
}

/**
 * Copies a version's built tree into a cell's code folder: folders made, files copied and links
 * recreated as they are (verbatim), every entry of a folder at once. Hand-written rather than
 * `fs.cp`, which stats each entry several times: 2-3 ms for a two-file hello against ~0.5 ms.
 */
export async function fillCell(cell: TakenCell, builtTree: string): Promise<void> {
  const copyDir = async (from: string, to: string): Promise<void> => {
    const entries = await readdir(from, { withFileTypes: true });
    await Promise.all(
      entries.map(async (e) => {
        const src = path.join(from, e.name);
        const dst = path.join(to, e.name);
        if (e.isDirectory()) {
          await mkdir(dst);
          await copyDir(src, dst);
        } else if (e.isSymbolicLink()) await symlink(await readlink(src), dst);
        else if (e.isFile()) await copyFile(src, dst);
        // Nothing else is in a built tree (the build refuses devices, sockets and pipes).
      }),
    );
  };
  await copyDir(builtTree, cell.taskDir);
}

/** How long a version may take to load in a cell. */
export const CELL_LOAD_TIMEOUT_MS = CELL_START_TIMEOUT_MS;
