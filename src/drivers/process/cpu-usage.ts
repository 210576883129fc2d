/**
 * How busy host processes are, from the scheduler's own accounting: /proc/PID/schedstat gives
 * the time a process's main thread spent on a CPU and the time it spent runnable but waiting for
 * one. For Node (and the other shims, which serve from one thread) the main thread is the event
 * loop, so the two together over a window are the event loop's demand: near the whole window, it
 * never waited for I/O, and requests queue behind each other — whether the CPU went to it or to
 * a neighbour. CFS throttling comes from a cgroup's cpu.stat. Read a few times a second per busy
 * instance: small file reads, no process spawned.
 */
import { readFile } from 'node:fs/promises';

/** Time the main thread of `pid` ran or waited to run, in ms, or undefined when it is gone. */
export async function mainThreadBusyMs(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/schedstat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const [run, wait] = text.split(' ').map(Number);
  return run !== undefined && wait !== undefined && Number.isFinite(run + wait)
    ? (run + wait) / 1e6
    : undefined;
}

/** The summed busy time of `pids` in ms (the gone ones count 0). */
export async function processesBusyMs(pids: number[]): Promise<number> {
  const each = await Promise.all(pids.map(mainThreadBusyMs));
  return each.reduce<number>((sum, ms) => sum + (ms ?? 0), 0);
}

/** `nr_throttled` of a cpu.stat text (cgroup v1 and v2 both have it). */
export function throttledPeriods(cpuStat: string): number {
  return Number(/^nr_throttled (\d+)$/m.exec(cpuStat)?.[1] ?? 0);
}
