// Writes what feeds deliver into intel_feeds / intel_indicators (docs/schema/intel.md). A page of
// objects and the cursor that follows it commit in ONE transaction: a sync killed at any moment
// leaves the cursor exactly after the last page stored, so resuming neither repeats nor skips.

import type { Db } from '../../store/open-store.ts';
import { checkIndicator } from './stix-indicator.ts';

/** Compiles a STIX pattern: null when it compiled, else the reason (stored as compile_error). */
export type PatternCompiler = (pattern: string) => string | null;

export interface Rejected {
  readonly id: string;
  readonly code: 'DE_TAXII_INVALID_OBJECT' | 'DE_TAXII_TIMESTAMP';
  readonly reason: string;
}

export interface PageOutcome {
  /** New indicator ids stored. */
  readonly added: number;
  /** Existing rows replaced by a newer version (revocations included). */
  readonly replaced: number;
  readonly revoked: number;
  /** Versions not newer than the one kept: ignored. */
  readonly older: number;
  /** Objects of other types (the feed's types filter let them through): not stored here. */
  readonly ignored: number;
  readonly rejected: readonly Rejected[];
}

export interface FeedState {
  readonly feed_id: string;
  readonly url: string;
  readonly collection_id: string;
  readonly added_after: string | null;
  readonly last_sync_at: number | null;
  readonly last_error: string | null;
  readonly objects_total: number;
}

export class IntelStore {
  readonly #db: Db;
  readonly #compile: PatternCompiler | null;
  readonly #existing;
  readonly #upsert;
  readonly #cursor;

  constructor(db: Db, compile: PatternCompiler | null = null) {
    this.#db = db;
    this.#compile = compile;
    this.#existing = db.prepare('SELECT modified FROM intel_indicators WHERE indicator_id = ?').pluck();
    this.#upsert = db.prepare(`INSERT INTO intel_indicators (indicator_id, feed_id, modified, name, description, pattern, pattern_type,
        valid_from, valid_until, revoked, labels, kill_chain_phases, confidence, object, added_at, compile_error)
      VALUES (@id, @feed, @modified, @name, @description, @pattern, @patternType, @validFrom, @validUntil, @revoked, @labels, @phases,
        @confidence, @json, @now, @compileError)
      ON CONFLICT (indicator_id) DO UPDATE SET feed_id = excluded.feed_id, modified = excluded.modified, name = excluded.name,
        description = excluded.description, pattern = excluded.pattern, pattern_type = excluded.pattern_type, valid_from = excluded.valid_from,
        valid_until = excluded.valid_until, revoked = excluded.revoked, labels = excluded.labels, kill_chain_phases = excluded.kill_chain_phases,
        confidence = excluded.confidence, object = excluded.object, added_at = excluded.added_at, compile_error = excluded.compile_error
      WHERE excluded.modified > intel_indicators.modified`);
    this.#cursor = db.prepare('UPDATE intel_feeds SET added_after = coalesce(?, added_after), objects_total = objects_total + ? WHERE feed_id = ?');
  }

  /**
   * The feed's row, created on first use. A feed pointed at another server or collection starts
   * over: its old cursor is a position in a different sequence.
   */
  ensureFeed(feedId: string, url: string, collectionId: string): FeedState {
    const row = this.feed(feedId);
    if (row === null) {
      this.#db.prepare('INSERT INTO intel_feeds (feed_id, url, collection_id) VALUES (?, ?, ?)').run(feedId, url, collectionId);
    } else if (row.url !== url || row.collection_id !== collectionId) {
      this.#db.prepare('UPDATE intel_feeds SET url = ?, collection_id = ?, added_after = NULL WHERE feed_id = ?').run(url, collectionId, feedId);
    }
    return this.feed(feedId)!;
  }

  feed(feedId: string): FeedState | null {
    return (this.#db.prepare('SELECT * FROM intel_feeds WHERE feed_id = ?').get(feedId) as FeedState | undefined) ?? null;
  }

  feeds(): FeedState[] {
    return this.#db.prepare('SELECT * FROM intel_feeds ORDER BY feed_id').all() as FeedState[];
  }

  /** Stores one page and moves the cursor to `dateAddedLast` (when the server sent it), atomically. */
  storePage(feedId: string, objects: readonly Record<string, unknown>[], dateAddedLast: string | null, now = Date.now()): PageOutcome {
    let added = 0, replaced = 0, revoked = 0, older = 0, ignored = 0;
    const rejected: Rejected[] = [];
    this.#db.transaction(() => {
      for (const o of objects) {
        if (o.type !== 'indicator') {
          ignored++;
          continue;
        }
        const r = checkIndicator(o);
        if ('reason' in r) {
          rejected.push({ id: typeof o.id === 'string' ? o.id.slice(0, 120) : '(no id)', code: r.code, reason: r.reason });
          continue;
        }
        const before = this.#existing.get(r.id) as string | undefined;
        if (before !== undefined && before >= r.modified) {
          older++;
          continue;
        }
        this.#upsert.run({
          id: r.id, feed: feedId, modified: r.modified, name: r.name, description: r.description, pattern: r.pattern,
          patternType: r.patternType, validFrom: r.validFrom, validUntil: r.validUntil, revoked: r.revoked ? 1 : 0,
          labels: JSON.stringify(r.labels), phases: JSON.stringify(r.killChainPhases), confidence: r.confidence, json: r.json, now,
          compileError: r.patternType === 'stix' && this.#compile !== null && !r.revoked ? this.#compile(r.pattern) : null,
        });
        if (before === undefined) added++;
        else replaced++;
        if (r.revoked) revoked++;
      }
      this.#cursor.run(dateAddedLast, added + replaced, feedId);
    })();
    return { added, replaced, revoked, older, ignored, rejected };
  }

  /** Records the end of a sync: when, and the error that ended it (null after a clean sync). */
  finishSync(feedId: string, error: string | null, now = Date.now()): void {
    this.#db.prepare('UPDATE intel_feeds SET last_sync_at = ?, last_error = ? WHERE feed_id = ?').run(now, error, feedId);
  }
}
