// Bounded, expiring buffers of recent events for multi-observation indicators (WITHIN, REPEATS,
// FOLLOWEDBY, AND/OR between observations). Each indicator keeps at most `maxPerIndicator` events,
// none older than its horizon; at most `maxActive` indicators keep state at once (the least
// recently touched is dropped). Memory is therefore bounded whatever the event rate or the feed.
import type { Observation } from '../pattern/observed-data.ts';

interface Buffered {
  readonly obs: Observation;
  readonly time: number;
}

/** Hard bound on one indicator's buffer, whatever its REPEATS count asks for. */
export const MAX_EVENTS_PER_INDICATOR = 4096;

export class WindowState {
  readonly #maxPerIndicator: number;
  readonly #maxActive: number;
  /** Map iteration order is insertion order: re-inserting on touch makes the first key the LRU. */
  readonly #buffers = new Map<string, Buffered[]>();
  evicted = 0;

  constructor(maxPerIndicator: number, maxActive: number) {
    this.#maxPerIndicator = maxPerIndicator;
    this.#maxActive = maxActive;
  }

  get active(): number {
    return this.#buffers.size;
  }

  /** Adds an event; returns the indicator's live observations (expired and excess ones dropped). */
  push(key: string, obs: Observation, time: number, horizonMs: number, minEvents = 1): Observation[] {
    // Room for the events a match needs, and the per-indicator bound beyond that (never above MAX).
    const cap = Math.min(MAX_EVENTS_PER_INDICATOR, Math.max(this.#maxPerIndicator, minEvents + 16));
    let buf = this.#buffers.get(key);
    if (buf !== undefined) this.#buffers.delete(key);
    else buf = [];
    const oldest = time - horizonMs;
    let drop = 0;
    while (drop < buf.length && buf[drop]!.time < oldest) drop += 1;
    if (drop > 0) buf.splice(0, drop);
    buf.push({ obs, time });
    if (buf.length > cap) { buf.splice(0, buf.length - cap); this.evicted += 1; }
    this.#buffers.set(key, buf);
    while (this.#buffers.size > this.#maxActive) {
      const lru = this.#buffers.keys().next().value as string;
      this.#buffers.delete(lru);
      this.evicted += 1;
    }
    return buf.map((b) => b.obs);
  }

  clear(key: string): void {
    this.#buffers.delete(key);
  }

  /** Keeps only the state of these keys (after a reload). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of [...this.#buffers.keys()]) if (!keys.has(k)) this.#buffers.delete(k);
  }
}
