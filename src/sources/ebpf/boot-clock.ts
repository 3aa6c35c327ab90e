// ktime_ns in records is CLOCK_BOOTTIME (bpf_ktime_get_boot_ns): unlike CLOCK_MONOTONIC it keeps
// counting through suspend, so the offset to the wall clock stays valid after a laptop wakes up.
//
// The offset is taken ONCE, when the sensor opens, not per event: the wall clock can be stepped
// (NTP, an admin, an attacker covering tracks), and re-reading it per event would reorder events
// and let a clock change rewrite their times. One anchor keeps the batch order and spacing exactly
// as the kernel saw them; the cost is slow drift against NTP slewing, reset on each restart.

export interface BootClock {
  /** Unix epoch nanoseconds for a CLOCK_BOOTTIME timestamp. */
  toEpochNs(ktimeNs: bigint): bigint;
  /** Unix epoch milliseconds (number) for a CLOCK_BOOTTIME timestamp. */
  toEpochMs(ktimeNs: bigint): number;
}

export function createBootClock(boottimeNowNs: bigint, wallNowMs: number = Date.now()): BootClock {
  const offsetNs = BigInt(wallNowMs) * 1_000_000n - boottimeNowNs;
  return {
    toEpochNs: (k) => k + offsetNs,
    toEpochMs: (k) => Number((k + offsetNs) / 1_000_000n),
  };
}
