// Alert delivery as the agent wires it: the configured sinks, each with a route (which alerts it
// takes), a dispatcher over the durable outbox, and the pump that runs them. New alerts are put in
// the outbox by `enqueue`, inside the transaction that creates them.
import { isAbsolute, join } from 'node:path';
import type { Alert } from '../alerts/alert.ts';
import type { DaemonEyeConfig } from '../config/index.ts';
import { OutboxPump } from '../outbox/outbox-pump.ts';
import { OutboxStore } from '../outbox/outbox-store.ts';
import { SinkDispatcher, type DeadLetterHook, type DispatchOptions } from '../outbox/sink-dispatcher.ts';
import { JsonlFileSink } from '../sinks/jsonl-file-sink.ts';
import type { Sink } from '../sinks/sink.ts';
import { StdoutSink } from '../sinks/stdout-sink.ts';
import type { Db } from '../store/open-store.ts';
import type { Logger } from './logger.ts';
import { createSinks } from './sink-factory.ts';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { VERSION } from '../version.ts';

interface RoutedSink {
  readonly sink: Sink;
  readonly accepts: (alert: Alert) => boolean;
  readonly options: DispatchOptions;
}

/** Local sinks cannot be flooded the way a SIEM can: a generous limit, still bounded. */
const LOCAL: DispatchOptions = { batchSize: 500, maxAttempts: 12, timeoutMs: 10_000, ratePerMinute: 60_000 };

export class Delivery {
  readonly sinks: readonly Sink[];
  readonly pump: OutboxPump;
  readonly #routes: readonly RoutedSink[];
  readonly #outbox: OutboxStore;

  constructor(db: Db, config: DaemonEyeConfig, dataDir: string, log: Logger, onDeadLetter?: DeadLetterHook) {
    const a = config.alerting;
    const routes: RoutedSink[] = [];
    const all = () => true;
    if (a.stdout.enabled) routes.push({ sink: new StdoutSink(a.stdout.format), accepts: all, options: LOCAL });
    if (a.jsonl_file.enabled) {
      const p = a.jsonl_file.path;
      routes.push({
        sink: new JsonlFileSink(isAbsolute(p) ? p : join(dataDir, p), { maxBytes: a.jsonl_file.max_size_mb * 1024 * 1024, keep: a.jsonl_file.max_files }),
        accepts: all, options: LOCAL,
      });
    }
    for (const c of createSinks(a.sinks, { dataDir, log, version: VERSION })) {
      if (routes.some((r) => r.sink.name === c.sink.name)) {
        throw new DaemonEyeError('DE_SINK_CONFIG', `two sinks are named "${c.sink.name}"`, {
          hint: 'give the alerting.sinks entry a `name:` of its own (alerting.stdout and alerting.jsonl_file use their type as name)',
        });
      }
      routes.push({
        sink: c.sink, accepts: c.route,
        options: { batchSize: c.config.batch_size, maxAttempts: c.config.max_attempts, timeoutMs: c.config.timeout_ms, ratePerMinute: c.config.rate_limit_per_minute },
      });
    }
    this.#routes = routes;
    this.sinks = routes.map((r) => r.sink);
    this.#outbox = new OutboxStore(db);
    this.pump = new OutboxPump(routes.map((r) => new SinkDispatcher(r.sink, this.#outbox, r.options, log, { ...(onDeadLetter ? { onDeadLetter } : {}) })));
  }

  /** Puts a new alert in the outbox of every sink whose route takes it (call inside the alert's transaction). */
  enqueue(alert: Alert, now: number): void {
    for (const r of this.#routes) if (r.accepts(alert)) this.#outbox.enqueue(r.sink.name, alert.alert_id, now);
  }

  async close(): Promise<void> {
    await this.pump.stop();
    for (const s of this.sinks) await s.close();
  }
}
