/**
 * The host's spare CPU, in cores' worth, from /proc/stat: what the autoscaler asks before it adds
 * an instance to a saturated function. An instance whose event loop fills a core is helped by a
 * second one only if a core is free to run it; on a host whose CPUs are already busy (2 cores
 * shared by the gateway, the instances and the load's own client) a second instance only splits
 * the same CPU between more processes, with more context switches and connections: measured on
 * this 2-core machine, 64 connections to a hello scaled to 5 instances (each one's event loop
 * runnable all the time, waiting for a CPU) and served a third of what one instance served at 16.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

/** A reading of the aggregate `cpu` line: idle (idle + iowait) and total ticks. */
interface Reading {
  idle: number;
  total: number;
}

/** Parses the first line of /proc/stat; undefined when it is not there (not Linux). */
export function parseProcStat(text: string): Reading | undefined {
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  if (ticks.length < 4 || ticks.some((t) => !Number.isFinite(t))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle: (ticks[3] ?? 0) + (ticks[4] ?? 0), total };
}

/** Samples the host's idle share; one reader serves every pool of the server. */
export class HostCpu {
  private last: Reading | undefined;
  private lastAt = 0;
  private spare: number | undefined;
  private reading: Promise<number | undefined> | undefined;
  private readonly cores = os.availableParallelism();
  private readonly minIntervalMs: number;
  private readonly read: () => Promise<string>;

  constructor(minIntervalMs = 200, read = () => readFile('/proc/stat', 'utf8')) {
    this.minIntervalMs = minIntervalMs;
    this.read = read;
  }

  /**
   * Idle cores' worth since the previous reading (readings closer than `minIntervalMs` share the
   * last figure); undefined when the host does not say (then the autoscaler does not ask).
   */
  spareCores(now = Date.now()): Promise<number | undefined> {
    if (now - this.lastAt < this.minIntervalMs) return Promise.resolve(this.spare);
    this.reading ??= this.read()
      .then((text) => {
        const r = parseProcStat(text);
        const last = this.last;
        this.last = r;
        this.lastAt = now;
        if (r && last && r.total > last.total)
          this.spare = ((r.idle - last.idle) / (r.total - last.total)) * this.cores;
        return this.spare;
      })
      .catch(() => undefined)
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
