// Which process on this host owned a flow's socket. Attributors are tried in order (kernel events,
// then /proc); when none knows, the row says `none` rather than guessing.
import type { Endpoints } from '../records.ts';

export interface Attribution {
  readonly pid: number | null;
  readonly processName: string | null;
  readonly method: 'kernel' | 'procfs' | 'none';
}

export interface Attributor {
  /** Called inside the write transaction: must be cheap (lookups in maps refreshed by `refresh`). */
  attribute(e: Endpoints, timeMs: number): Attribution;
  /** Brings caches up to date before a batch is written; `pending` lists the records to attribute. */
  refresh?(pending: readonly Endpoints[]): void;
}

export const UNATTRIBUTED: Attribution = { pid: null, processName: null, method: 'none' };

export const NO_ATTRIBUTION: Attributor = { attribute: () => UNATTRIBUTED };

/** Tries each attributor in turn; the first that names a process wins. */
export function chain(...attributors: Attributor[]): Attributor {
  return {
    attribute(e, time) {
      for (const a of attributors) {
        const r = a.attribute(e, time);
        if (r.pid !== null) return r;
      }
      return UNATTRIBUTED;
    },
    refresh(pending) {
      for (const a of attributors) a.refresh?.(pending);
    },
  };
}
