import type { RuleCursor } from '../detector.ts';

// Messages between the agent and its rule sandbox process (structured clone over the IPC channel).

/** One rule to run: its SELECT and where its `new_*` views start. */
export interface SandboxJob {
  readonly sql: string;
  readonly cursor: RuleCursor;
}

/**
 * A job on the wire: the statement by key, with its SQL only until the child has prepared it
 * (a pass's rules are ~30 KB of SQL; sending them four times a second was wasted work).
 */
export interface WireJob {
  readonly key: number;
  readonly sql?: string;
  readonly cursor: RuleCursor;
}

export type SandboxRequest =
  | { readonly type: 'open'; readonly path: string }
  | {
      /**
       * Every rule of a pass in one request: the child runs them in order and replies once per rule
       * as each finishes, so the agent sees which rule is running when a budget runs out.
       */
      readonly type: 'run';
      readonly id: string;
      readonly jobs: readonly WireJob[];
      readonly maxRows: number;
      /** Where the pass's views end (the heads it started from); absent: no end. */
      readonly heads?: RuleCursor;
    };

export type SandboxReply =
  | { readonly type: 'ready' }
  | { readonly type: 'opened' }
  | {
      readonly type: 'result';
      readonly id: string;
      /** Position of the rule in the request's jobs. */
      readonly index: number;
      readonly rows: Record<string, unknown>[];
      readonly truncated: boolean;
      readonly durationMs: number;
    }
  | { readonly type: 'error'; readonly id: string | null; readonly index: number | null; readonly message: string };
