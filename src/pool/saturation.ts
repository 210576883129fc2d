/**
 * Whether an instance is saturated — more load would queue inside it rather than be served —
 * as opposed to merely busy. A node instance holding 80 requests that wait on I/O is busy and
 * fine; one whose event loop never waits (it is running, or runnable and waiting for a CPU,
 * nearly the whole time) or that the kernel throttled at its CPU quota makes every request it
 * holds slower. Another instance helps only if a CPU is free to run it: the pool asks the host
 * before it adds one (host-cpu.ts). The signal is the host scheduler's accounting
 * of the instance (drivers' `cpuUsage()`), so an instance can neither claim saturation to get
 * more instances nor hide it.
 */
import type { CpuUsage } from '../drivers/index.ts';

/** Share of a window an instance's event loop must be running or runnable to count as saturated. */
export const SATURATED_SHARE = 0.8;

/**
 * The host's idle CPU (cores' worth, host-cpu.ts) an added instance needs: about what a saturated
 * event loop takes (SATURATED_SHARE of a core), less a margin for the sampling's coarseness.
 */
export const SPARE_FOR_ANOTHER = 0.6;

/** How often the pool samples its busy instances, in ms. */
export const SAMPLE_MS = 250;

/** The saturation of one instance, from successive samples. */
export class SaturationGauge {
  /** Share of the last window its event loop was running or runnable (0 to about 1). */
  load = 0;
  /** Whether the last window showed the instance saturated. */
  saturated = false;
  private last: { at: number; usage: CpuUsage } | undefined;

  /** Takes a sample (undefined: the instance is gone) and returns whether it is saturated. */
  update(usage: CpuUsage | undefined, now: number): boolean {
    const last = this.last;
    this.last = usage && { at: now, usage };
    if (!usage || !last || now <= last.at) return this.saturated;
    this.load = Math.max(0, usage.busyMs - last.usage.busyMs) / (now - last.at);
    const throttled = usage.throttledPeriods > last.usage.throttledPeriods;
    this.saturated = throttled || this.load >= SATURATED_SHARE;
    return this.saturated;
  }

  /** Forgets the history (the instance went idle: its next busy window starts afresh). */
  reset(): void {
    this.last = undefined;
    this.load = 0;
    this.saturated = false;
  }
}
