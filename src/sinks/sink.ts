// The one interface every alert destination implements. This issue ships stdout and a JSONL file;
// syslog, webhook, CEF, email, Splunk and Elasticsearch plug in here behind durable outboxes.
import type { Alert } from '../alerts/alert.ts';

export interface Sink {
  readonly name: string;
  /** Resolves once the destination has the alerts (written and flushed for local sinks). */
  deliver(alerts: readonly Alert[]): Promise<void>;
  close(): Promise<void>;
}
