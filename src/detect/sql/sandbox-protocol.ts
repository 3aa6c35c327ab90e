import type { RuleCursor } from '../detector.ts';

// Messages between the agent and its rule sandbox process (structured clone over the IPC channel).

export type SandboxRequest =
  | { readonly type: 'open'; readonly path: string }
  | {
      readonly type: 'run';
      readonly id: string;
      readonly sql: string;
      readonly cursor: RuleCursor;
      readonly maxRows: number;
    };

export type SandboxReply =
  | { readonly type: 'ready' }
  | { readonly type: 'opened' }
  | {
      readonly type: 'result';
      readonly id: string;
      readonly rows: Record<string, unknown>[];
      readonly truncated: boolean;
      readonly durationMs: number;
    }
  | { readonly type: 'error'; readonly id: string | null; readonly message: string };
