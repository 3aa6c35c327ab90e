// The one interface every collection source implements, so the agent can start, watch and stop a
// source without knowing what it reads (procfs, eBPF, ETW, EndpointSecurity). Only src/agent/ picks
// concrete sources; everything else depends on these types.
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';

export interface SourceHealth {
  /** ok: working; degraded: working with gaps (see reason); unavailable: cannot run on this host. */
  readonly state: 'ok' | 'degraded' | 'unavailable';
  /** Why the state is not ok, in words an operator can act on (shown by `daemoneye doctor`). */
  readonly reason?: string;
}

export interface Source {
  readonly name: string;
  health(): SourceHealth;
  /**
   * Monotonic counters since the source was created, flat names with dots for a label
   * (`decode_errors.stat_malformed`). Readers diff two readings; a source never resets them.
   */
  counters(): Readonly<Record<string, number>>;
  /** Stops background work and releases what the source holds; safe to call twice. */
  stop(): Promise<void>;
}

/** One pass over every process. */
export interface ProcessScan {
  /** Unix epoch milliseconds when the scan started and finished. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly snapshots: readonly ProcessSnapshot[];
  /** Processes only partly readable (rows with accessible = 0, plus those with no row at all). */
  readonly inaccessible: number;
  /** Processes listed at the start of the scan that exited before they could be read. */
  readonly vanished: number;
}

/** A source that is polled: each scan returns every process it can see. */
export interface SnapshotSource extends Source {
  scan(): Promise<ProcessScan>;
}
