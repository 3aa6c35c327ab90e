// The outbox tables (docs/schema.md: alert_outbox, alert_dead_letters, sink_status). Rows enter in
// the transaction that creates the alert and leave only when the receiver acknowledged, or into the
// dead-letter table after max_attempts. Every method is synchronous so callers can compose them
// into their own transactions.
import type { Statement } from 'better-sqlite3';
import { toAlert, type Alert, type AlertRow } from '../alerts/alert.ts';
import type { Db } from '../store/open-store.ts';

export interface OutboxRow {
  readonly alert: Alert;
  readonly attempts: number;
  readonly createdAt: number;
}

export class OutboxStore {
  readonly #db: Db;
  readonly #enqueue: Statement;
  readonly #due: Statement;
  readonly #ack: Statement;
  readonly #fail: Statement;
  readonly #toDead: Statement;
  readonly #statusOk: Statement;
  readonly #statusFail: Statement;
  readonly #nextDue: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#enqueue = db.prepare(`INSERT OR IGNORE INTO alert_outbox (sink, alert_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?)`);
    this.#due = db.prepare(`SELECT o.attempts, o.created_at, a.* FROM alert_outbox o JOIN alerts a USING (alert_id)
      WHERE o.sink = ? AND o.next_attempt_at <= ? ORDER BY o.alert_id LIMIT ?`);
    this.#ack = db.prepare('DELETE FROM alert_outbox WHERE sink = ? AND alert_id = ?');
    this.#fail = db.prepare('UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE sink = ? AND alert_id = ?');
    this.#toDead = db.prepare(`INSERT OR REPLACE INTO alert_dead_letters (sink, alert_id, attempts, last_error, created_at, dead_at)
      SELECT sink, alert_id, attempts + 1, ?, created_at, ? FROM alert_outbox WHERE sink = ? AND alert_id = ?`);
    this.#statusOk = db.prepare(`INSERT INTO sink_status (sink, type, delivered, suppressed, consecutive_failures, circuit, last_success_at)
      VALUES (@sink, @type, @delivered, @suppressed, 0, 'closed', @now)
      ON CONFLICT (sink) DO UPDATE SET type = @type, delivered = delivered + @delivered, suppressed = suppressed + @suppressed,
        consecutive_failures = 0, circuit = 'closed', last_success_at = @now`);
    this.#statusFail = db.prepare(`INSERT INTO sink_status (sink, type, dead_lettered, failures, consecutive_failures, circuit, last_error, last_failure_at)
      VALUES (@sink, @type, @dead, 1, @consecutive, @circuit, @error, @now)
      ON CONFLICT (sink) DO UPDATE SET type = @type, dead_lettered = dead_lettered + @dead, failures = failures + 1,
        consecutive_failures = @consecutive, circuit = @circuit, last_error = @error, last_failure_at = @now`);
    this.#nextDue = db.prepare('SELECT min(next_attempt_at) AS t FROM alert_outbox WHERE sink = ?');
  }

  /** Counters and breaker state per sink, for `daemoneye alerts deliveries`. */
  recordSuccess(sink: string, type: string, delivered: number, suppressed: number, now: number): void {
    this.#statusOk.run({ sink, type, delivered, suppressed, now });
  }

  recordFailure(sink: string, type: string, f: { error: string; dead: number; consecutive: number; circuit: string; now: number }): void {
    this.#statusFail.run({ sink, type, ...f });
  }

  enqueue(sink: string, alertId: number, now: number): void {
    this.#enqueue.run(sink, alertId, now, now);
  }

  /** Up to `limit` alerts due for `sink`, oldest first. */
  due(sink: string, now: number, limit: number): OutboxRow[] {
    return (this.#due.all(sink, now, limit) as (AlertRow & { attempts: number; created_at: number })[]).map((r) => ({
      alert: toAlert(r), attempts: r.attempts, createdAt: r.created_at,
    }));
  }

  /** When the next row for `sink` is due, or null when it has none. */
  nextDue(sink: string): number | null {
    return (this.#nextDue.get(sink) as { t: number | null }).t;
  }

  acknowledge(sink: string, alertIds: readonly number[]): void {
    this.#db.transaction(() => {
      for (const id of alertIds) this.#ack.run(sink, id);
    })();
  }

  /** Records a failed attempt; rows that reached `maxAttempts` move to the dead-letter table. Returns those. */
  fail(sink: string, rows: readonly OutboxRow[], error: string, nextAttemptAt: number, maxAttempts: number, now: number, retryable: boolean): number[] {
    const dead: number[] = [];
    this.#db.transaction(() => {
      for (const r of rows) {
        if (!retryable || r.attempts + 1 >= maxAttempts) {
          this.#toDead.run(error, now, sink, r.alert.alert_id);
          this.#ack.run(sink, r.alert.alert_id);
          dead.push(r.alert.alert_id);
        } else {
          this.#fail.run(nextAttemptAt, error, sink, r.alert.alert_id);
        }
      }
    })();
    return dead;
  }

  /** Puts dead letters back in the outbox (all of a sink's, or the given alert ids). Returns how many. */
  redrive(sink: string | null, alertIds: readonly number[] | null, now: number): number {
    return this.#db.transaction(() => {
      const where = [sink === null ? '1' : 'sink = @sink', alertIds === null ? '1' : 'alert_id IN (SELECT value FROM json_each(@ids))'].join(' AND ');
      const params = { sink, ids: JSON.stringify(alertIds ?? []), now };
      const moved = this.#db.prepare(`INSERT OR IGNORE INTO alert_outbox (sink, alert_id, attempts, next_attempt_at, last_error, created_at)
        SELECT sink, alert_id, 0, @now, last_error, created_at FROM alert_dead_letters WHERE ${where}`).run(params).changes;
      this.#db.prepare(`DELETE FROM alert_dead_letters WHERE ${where}`).run(params);
      return moved;
    })();
  }
}
