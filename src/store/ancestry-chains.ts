// Ancestry chains for the kernel writer: each distinct chain (JSON text) is stored once in
// process_ancestry and exec rows refer to it by id (migration 41). The ids of chains seen lately are
// kept here, so the common case (the next child of the same parent) costs one map lookup.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open-store.ts';

/** Distinct chains remembered; past this the map starts over (bounds memory: chains number about the parents that exec). */
const MAX_CACHED = 20_000;
/**
 * A chain's `last_exec_id` (the newest exec row that used it) is written again only after this
 * many more exec rows, not for every use: collection then keeps a chain until every row that may
 * use it is gone (see collect()).
 */
const TOUCH_EVERY_ROWS = 100_000;

export class AncestryChains {
  readonly #ids = new Map<string, { id: number; lastWritten: number }>();
  readonly #insert: Statement;
  readonly #select: Statement;
  readonly #touch: Statement;
  readonly #collect: Statement;

  constructor(db: Db) {
    this.#insert = db.prepare('INSERT OR IGNORE INTO process_ancestry (chain) VALUES (?)');
    this.#select = db.prepare('SELECT id FROM process_ancestry WHERE chain = ?');
    this.#touch = db.prepare('UPDATE process_ancestry SET last_exec_id = max(last_exec_id, ?) WHERE id = ?');
    this.#collect = db.prepare(`DELETE FROM process_ancestry
      WHERE last_exec_id + ${TOUCH_EVERY_ROWS} < (SELECT coalesce(min(id), 9007199254740991) FROM process_exec_rows)`);
  }

  /** The id of `chain`, stored on first sight. Runs inside the writer's transaction. */
  idOf(chain: string): number {
    const known = this.#ids.get(chain);
    if (known !== undefined) return known.id;
    this.#insert.run(chain);
    const row = this.#select.get(chain) as { id: number };
    if (this.#ids.size >= MAX_CACHED) this.#ids.clear();
    // -Infinity: the first use after a miss always writes its mark (a new chain's is 0).
    this.#ids.set(chain, { id: row.id, lastWritten: Number.NEGATIVE_INFINITY });
    return row.id;
  }

  /** Records that exec row `execId` uses `chain` (after idOf); writes only every TOUCH_EVERY_ROWS. */
  used(chain: string, execId: number): void {
    const known = this.#ids.get(chain);
    if (known === undefined || execId - known.lastWritten < TOUCH_EVERY_ROWS) return;
    this.#touch.run(execId, known.id);
    known.lastWritten = execId;
  }

  /** Forgets the cached ids: the transaction that stored some of them was rolled back. */
  forget(): void {
    this.#ids.clear();
  }

  /**
   * Deletes the chains no exec row can still use: every row that used a chain has an id at most
   * TOUCH_EVERY_ROWS past its `last_exec_id`, so a chain whose mark is that far below the oldest
   * remaining row is unused. Forgets the cached ids, so a chain deleted here is stored afresh.
   */
  collect(): number {
    this.#ids.clear();
    return this.#collect.run().changes;
  }
}
