// The one interface every detector implements (SQL rules now; STIX indicators and anomaly models
// plug in beside it). A detector turns the store's latest state into findings; alerts/ decides
// what becomes an alert.
import type { RuleMeta } from './sql/rule.ts';

export interface Finding {
  readonly rule: RuleMeta;
  /** The row the detection returned: columns named in docs/rules.md plus evidence. */
  readonly row: Readonly<Record<string, unknown>>;
}

/** How far a rule has read each event table: its `new_*` views start after these ids. */
export interface RuleCursor {
  readonly lifecycle: number;
  readonly exec: number;
  readonly exit: number;
  readonly connection: number;
  readonly security: number;
  /** Network tables written from decoded packets (network_flows, dns_queries, tls_handshakes, http_requests). */
  readonly flow: number;
  readonly dns: number;
  readonly tls: number;
  readonly http: number;
}

export const CURSOR_START: RuleCursor = { lifecycle: 0, exec: 0, exit: 0, connection: 0, security: 0, flow: 0, dns: 0, tls: 0, http: 0 };

export type OutcomeStatus = 'ok' | 'timeout' | 'error';

export type DetectionTrigger = 'scan' | 'kernel' | 'network';

/** How one rule (or model) fared in one run: stored in the rules table and shown by `rules list`. */
export interface RuleOutcome {
  readonly ruleId: string;
  readonly status: OutcomeStatus;
  readonly durationMs: number;
  readonly rows: number;
  readonly truncated: boolean;
  readonly error: string | null;
  /** Events up to these ids were visible to the run: the next run starts after them. */
  readonly cursor: RuleCursor;
  /** State detections: a finding that is no longer returned by a clean run is cleared. */
  readonly clearsWhenAbsent: boolean;
}

export interface DetectionContext {
  /** What new data prompted this run: a finished scan, a batch of kernel events, or of decoded packets. */
  readonly trigger: DetectionTrigger;
  readonly scanId: number | null;
  /** Highest ids committed in each event table before detection started. */
  readonly heads: RuleCursor;
  /** Per rule: where its previous run stopped reading. */
  readonly cursors: ReadonlyMap<string, RuleCursor>;
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
