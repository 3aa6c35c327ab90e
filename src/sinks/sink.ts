// The one interface every alert destination implements, one file per sink (stdout-sink.ts,
// jsonl-file-sink.ts, webhook-sink.ts, ...), and every sink passes the same conformance test.
// Sinks do not retry, queue or rate-limit: the outbox dispatcher does that for all of them
// (src/outbox/), so a sink is only a transport that says "acknowledged" or throws.
import type { Alert } from '../alerts/alert.ts';

export interface Sink {
  /** Instance name, unique among the configured sinks (outbox rows are keyed by it). */
  readonly name: string;
  /** Sink type as written in config: stdout, jsonl_file, webhook, syslog, cef, email, splunk_hec, elasticsearch. */
  readonly type: string;
  /**
   * Delivers a batch. Resolves only once the receiver has acknowledged every alert in it (HTTP 2xx,
   * syslog TCP write flushed, SMTP 250, file fsync'd). Throws SinkDeliveryError otherwise. A batch
   * may be delivered again after a crash: receivers see `alert_uuid` as the idempotency key.
   */
  deliver(alerts: readonly Alert[]): Promise<void>;
  close(): Promise<void>;
}
