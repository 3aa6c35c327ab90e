// CPU share per process between two scans. A pid alone is not an identity (pids are reused), so the
// previous reading only counts when the start ticks match too. Readings of processes not seen in a
// scan are dropped at its end, which keeps the map the size of the process table.

interface Reading {
  startTicks: number;
  ticks: number;
  atMs: number;
  seen: number;
}

export class CpuTracker {
  readonly #clockTicks: number;
  readonly #readings = new Map<number, Reading>();
  #generation = 0;

  constructor(clockTicks: number) {
    this.#clockTicks = clockTicks;
  }

  beginScan(): void {
    this.#generation++;
  }

  /**
   * Percent of one CPU (may exceed 100 for multi-threaded processes), rounded to 0.01.
   * @param ticks utime + stime; @param atMs a monotonic clock (performance.now());
   * @param uptimeSec seconds since boot, for the first reading: lifetime average as ps computes it.
   */
  usage(pid: number, startTicks: number, ticks: number, atMs: number, uptimeSec: number): number {
    const prev = this.#readings.get(pid);
    let percent: number;
    if (prev !== undefined && prev.startTicks === startTicks && atMs > prev.atMs) {
      percent = (Math.max(0, ticks - prev.ticks) / this.#clockTicks) / ((atMs - prev.atMs) / 1000) * 100;
    } else {
      const lifetime = uptimeSec - startTicks / this.#clockTicks;
      percent = lifetime > 0 ? (ticks / this.#clockTicks) / lifetime * 100 : 0;
    }
    if (prev === undefined) {
      this.#readings.set(pid, { startTicks, ticks, atMs, seen: this.#generation });
    } else {
      // Updated in place: thousands of readings per scan, no garbage for the collector.
      prev.startTicks = startTicks;
      prev.ticks = ticks;
      prev.atMs = atMs;
      prev.seen = this.#generation;
    }
    return Math.round(percent * 100) / 100;
  }

  endScan(): void {
    for (const [pid, r] of this.#readings) if (r.seen !== this.#generation) this.#readings.delete(pid);
  }
}
