// Long-polling for authored-object changes, so a change (a rule revoked) reaches regions and agents
// at once rather than at their next round. One poller per center process reads the latest revision
// from the database once a second and wakes the requests waiting on it: the database stays the only
// source of truth, so this holds across several center processes sharing it.
import type { CenterRepo } from './center-repo.ts';

export class RevisionWatch {
  readonly #repo: CenterRepo;
  readonly #waiters = new Set<{ since: number; wake: (rev: number) => void }>();
  #latest = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(repo: CenterRepo) {
    this.#repo = repo;
  }

  /** Resolves with the latest revision as soon as it exceeds `since`, or with `since` after `timeoutMs`. */
  wait(since: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const waiter = {
        since,
        wake: (rev: number) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          this.#maybeStop();
          resolve(rev);
        },
      };
      const timer = setTimeout(() => waiter.wake(since), timeoutMs);
      this.#waiters.add(waiter);
      this.#ensurePolling();
      void this.#poll();
    });
  }

  close(): void {
    for (const w of [...this.#waiters]) w.wake(w.since);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #ensurePolling(): void {
    this.#timer ??= setInterval(() => void this.#poll(), 1000);
  }

  #maybeStop(): void {
    if (this.#waiters.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async #poll(): Promise<void> {
    try {
      this.#latest = await this.#repo.latestRevision();
    } catch {
      return; // the database is unavailable: waiters time out and retry
    }
    for (const w of [...this.#waiters]) if (this.#latest > w.since) w.wake(this.#latest);
  }
}
