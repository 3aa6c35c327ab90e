// A bounded in-process queue between pipeline stages. Producers choose per call: push() waits for
// room (backpressure: a polling source simply scans later), offer() never waits and counts what it
// had to shed (kernel intake must never block on a slow consumer). Counters are exported so a shed
// item is reported, never silent.

export interface QueueCounters {
  readonly enqueued: number;
  readonly dequeued: number;
  readonly dropped: number;
  readonly waits: number;
  readonly depth: number;
  readonly capacity: number;
}

export class BoundedQueue<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  readonly #takers: ((item: T | undefined) => void)[] = [];
  readonly #room: (() => void)[] = [];
  #closed = false;
  #enqueued = 0;
  #dequeued = 0;
  #dropped = 0;
  #waits = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
  }

  /** Adds without waiting; returns false (and counts a drop) when full or closed. */
  offer(item: T): boolean {
    if (this.#closed || this.#items.length >= this.capacity) {
      this.#dropped++;
      return false;
    }
    this.#enqueue(item);
    return true;
  }

  /** Adds, waiting while the queue is full. Resolves false if the queue closed meanwhile. */
  async push(item: T): Promise<boolean> {
    while (!this.#closed && this.#items.length >= this.capacity) {
      this.#waits++;
      await new Promise<void>((resolve) => this.#room.push(resolve));
    }
    if (this.#closed) return false;
    this.#enqueue(item);
    return true;
  }

  /** The next item, waiting if empty; undefined once closed and drained. */
  async take(): Promise<T | undefined> {
    const item = this.#items.shift();
    if (item !== undefined) {
      this.#dequeued++;
      this.#room.shift()?.();
      return item;
    }
    if (this.#closed) return undefined;
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** No more items are accepted; waiting takers get undefined once the queue is drained. */
  close(): void {
    this.#closed = true;
    for (const wake of this.#room.splice(0)) wake();
    if (this.#items.length === 0) for (const t of this.#takers.splice(0)) t(undefined);
  }

  counters(): QueueCounters {
    return {
      enqueued: this.#enqueued, dequeued: this.#dequeued, dropped: this.#dropped, waits: this.#waits,
      depth: this.#items.length, capacity: this.capacity,
    };
  }

  #enqueue(item: T): void {
    this.#enqueued++;
    const taker = this.#takers.shift();
    if (taker !== undefined) {
      this.#dequeued++;
      taker(item);
    } else {
      this.#items.push(item);
    }
  }
}
