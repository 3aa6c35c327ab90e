// The sinks configured for this agent, delivered to one after another. A failing sink is logged and
// does not stop the others (durable outboxes with retries arrive with the sink issue).
import type { Alert } from '../alerts/alert.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import { JsonlFileSink } from '../sinks/jsonl-file-sink.ts';
import type { Sink } from '../sinks/sink.ts';
import { StdoutSink } from '../sinks/stdout-sink.ts';
import type { Logger } from './logger.ts';
import { isAbsolute, join } from 'node:path';

export interface SinkSet {
  readonly sinks: readonly Sink[];
  deliver(alerts: readonly Alert[], log: Logger): Promise<void>;
  close(): Promise<void>;
}

export function buildSinks(config: DaemonEyeConfig, dataDir: string): SinkSet {
  const sinks: Sink[] = [];
  const a = config.alerting;
  if (a.stdout.enabled) sinks.push(new StdoutSink(a.stdout.format));
  if (a.jsonl_file.enabled) {
    const p = a.jsonl_file.path;
    sinks.push(new JsonlFileSink(isAbsolute(p) ? p : join(dataDir, p)));
  }
  return {
    sinks,
    async deliver(alerts, log) {
      for (const s of sinks) {
        try {
          await s.deliver(alerts);
        } catch (e) {
          log.error('sink failed', { sink: s.name, reason: (e as Error).message, alerts: alerts.length });
        }
      }
    },
    async close() {
      for (const s of sinks) await s.close();
    },
  };
}
