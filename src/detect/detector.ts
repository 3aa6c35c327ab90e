// The one interface every detector implements (SQL rules now; STIX indicators and anomaly models
// plug in beside it). A detector turns the store's latest state into findings; alerts/ decides
// what becomes an alert.
import type { RuleMeta } from './sql/rule.ts';

export interface Finding {
  readonly rule: RuleMeta;
  /** The row the detection returned: columns named in docs/rules.md plus evidence. */
  readonly row: Readonly<Record<string, unknown>>;
}

export type OutcomeStatus = 'ok' | 'timeout' | 'error';

/** How one rule (or model) fared in one run: stored in the rules table and shown by `rules list`. */
export interface RuleOutcome {
  readonly ruleId: string;
  readonly status: OutcomeStatus;
  readonly durationMs: number;
  readonly rows: number;
  readonly truncated: boolean;
  readonly error: string | null;
  /** Lifecycle events up to this id were visible to the run: the next run starts after it. */
  readonly lifecycleCursor: number;
  /** State detections: a finding that is no longer returned by a clean run is cleared. */
  readonly clearsWhenAbsent: boolean;
}

export interface DetectionContext {
  readonly scanId: number;
  /** Highest process_lifecycle.id committed before detection started. */
  readonly lifecycleHead: number;
  /** Per rule: the lifecycle id its previous run reached. */
  readonly cursors: ReadonlyMap<string, number>;
}

export interface DetectionRun {
  readonly findings: Finding[];
  readonly outcomes: RuleOutcome[];
}

export interface Detector {
  readonly name: string;
  detect(context: DetectionContext): Promise<DetectionRun>;
  close(): Promise<void>;
}
