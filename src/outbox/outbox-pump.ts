// Runs every sink's dispatcher in its own loop, so a slow or dead receiver delays only its own
// sink: never detection, never the other sinks. The agent wakes the loops when new alerts enter
// the outbox; otherwise each sleeps until its next row is due.
import type { SinkDispatcher } from './sink-dispatcher.ts';

/** Longest sleep of an idle loop: rows added by another process (`alerts redrive`) are picked up within it. */
const IDLE_POLL_MS = 5_000;

export class OutboxPump {
  readonly #dispatchers: readonly SinkDispatcher[];
  readonly #wakers = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(dispatchers: readonly SinkDispatcher[]) {
    this.#dispatchers = dispatchers;
  }

  start(): void {
    this.#loops = this.#dispatchers.map((d) => this.#loop(d));
  }

  /** New rows are in the outbox: deliver now rather than at the next poll. */
  wake(): void {
    for (const w of [...this.#wakers]) w();
  }

  /**
   * Delivers everything due now, for `run --once`: returns when no sink has a due row left (rows
   * rescheduled into the future stay in the outbox for the next run) or at the deadline.
   */
  async drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    await Promise.all(this.#dispatchers.map(async (d) => {
      while (Date.now() < until) {
        const r = await d.deliverDue();
        if (r.delivered === 0 && r.failed === 0 && r.suppressed === 0) return;
        if (r.nextInMs === null || r.nextInMs > 0) return;
      }
    }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await Promise.all(this.#loops);
  }

  async #loop(d: SinkDispatcher): Promise<void> {
    while (!this.#stopped) {
      let next: number | null;
      try {
        next = (await d.deliverDue()).nextInMs;
      } catch {
        next = IDLE_POLL_MS; // the store itself failed; the dispatcher logged what it could
      }
      if (next === 0) continue;
      await this.#sleep(next === null ? IDLE_POLL_MS : Math.min(next, IDLE_POLL_MS));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
