// Inserts rows into one table ROWS_PER_STATEMENT at a time with a multi-row INSERT. At thousands
// of rows a second each statement run has a fixed cost (a call into the addon, a step and a reset)
// that a 32-row statement pays once: measured on the exec table, 2.3 -> 1.8 µs per row.
// Rows keep their order; call flush() before the transaction ends.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open-store.ts';

const ROWS_PER_STATEMENT = 32;

export class BatchedInsert {
  readonly #one: Statement;
  readonly #many: Statement;
  readonly #width: number;
  readonly #onFlushed: ((firstId: number, rows: number) => void) | undefined;
  #pending: unknown[] = [];

  /**
   * `values` is the VALUES tuple of one row, `?` per bound column, e.g. "(?, ?, 'tcp', ?)".
   * `onFlushed` hears the ids given to each run of rows (consecutive, in the order added).
   */
  constructor(db: Db, insertInto: string, values: string, onFlushed?: (firstId: number, rows: number) => void) {
    this.#one = db.prepare(`${insertInto} VALUES ${values}`);
    this.#many = db.prepare(`${insertInto} VALUES ${Array(ROWS_PER_STATEMENT).fill(values).join(', ')}`);
    this.#width = values.split('?').length - 1;
    this.#onFlushed = onFlushed;
  }

  /** Queues one row (its bound values, in column order); a full statement's worth is inserted at once. */
  add(row: readonly unknown[]): void {
    for (const v of row) this.#pending.push(v);
    if (this.#pending.length === this.#width * ROWS_PER_STATEMENT) {
      const last = Number(this.#many.run(...this.#pending).lastInsertRowid);
      this.#pending = [];
      this.#onFlushed?.(last - ROWS_PER_STATEMENT + 1, ROWS_PER_STATEMENT);
    }
  }

  /** Forgets the queued rows: their transaction failed and was rolled back. */
  discard(): void {
    this.#pending = [];
  }

  /** Inserts the rows still queued. */
  flush(): void {
    const rows = this.#pending.length / this.#width;
    if (rows === 0) return;
    let first = 0;
    for (let r = 0; r < rows; r++) {
      const id = Number(this.#one.run(...this.#pending.slice(r * this.#width, (r + 1) * this.#width)).lastInsertRowid);
      if (r === 0) first = id;
    }
    this.#pending = [];
    this.#onFlushed?.(first, rows);
  }
}
