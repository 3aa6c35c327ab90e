// Incremental sync of one TAXII collection into the store. The cursor is the
// X-TAXII-Date-Added-Last of the last page stored; the next sync asks for added_after = cursor, so
// every object is fetched once. Each page commits with its cursor (intel-store.ts), so a sync
// killed mid-way resumes after the last page it stored.
//
// Servers that omit X-TAXII-Date-Added-Last leave the cursor where it was: the next sync fetches
// again from there, which repeats work but never loses an indicator (storing is idempotent).

import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import type { IntelStore, Rejected } from './intel-store.ts';
import type { FeedSpec } from './feed-spec.ts';

export interface SyncProgress {
  readonly feed: string;
  readonly pages: number;
  readonly objects: number;
  readonly stored: number;
  readonly cursor: string | null;
}

export interface SyncReport extends SyncProgress {
  readonly added: number;
  readonly replaced: number;
  readonly revoked: number;
  readonly older: number;
  readonly ignored: number;
  /** Objects of the page that were not objects at all (no id/type). */
  readonly malformed: number;
  readonly rejected: readonly Rejected[];
  readonly cursorBefore: string | null;
  /** The sync was cancelled (signal) before the feed was exhausted. */
  readonly interrupted: boolean;
  /** Set when the sync stopped on an error; what was stored before it is kept. */
  readonly error: DaemonEyeError | null;
}

/** At most this many rejected objects are listed in a report (all are counted). */
const MAX_LISTED_REJECTS = 50;

export async function syncFeed(store: IntelStore, client: TaxiiClient, feed: FeedSpec,
  onProgress: (p: SyncProgress) => void = () => {}, signal?: AbortSignal): Promise<SyncReport> {
  const state = store.ensureFeed(feed.name, feed.url, feed.collectionId);
  const cursorBefore = state.added_after;
  let cursor = cursorBefore;
  let pages = 0, objects = 0, added = 0, replaced = 0, revoked = 0, older = 0, ignored = 0, malformed = 0, rejectedCount = 0;
  const rejected: Rejected[] = [];
  let error: DaemonEyeError | null = null;
  try {
    const filter = {
      limit: feed.pageSize, types: feed.types,
      ...(cursor === null ? {} : { addedAfter: cursor }),
    };
    for await (const page of client.objects(feed.url, feed.collectionId, filter)) {
      const out = store.storePage(feed.name, page.items, page.dateAddedLast);
      pages++;
      objects += page.items.length;
      malformed += page.malformed ?? 0;
      added += out.added; replaced += out.replaced; revoked += out.revoked; older += out.older; ignored += out.ignored;
      rejectedCount += out.rejected.length;
      for (const r of out.rejected) if (rejected.length < MAX_LISTED_REJECTS) rejected.push(r);
      if (page.dateAddedLast !== null) cursor = page.dateAddedLast;
      onProgress({ feed: feed.name, pages, objects, stored: added + replaced, cursor });
      if (signal?.aborted) break;
    }
  } catch (e) {
    // Stopped on purpose (agent shutdown, Ctrl-C): not a feed error; the cursor is consistent.
    if (!signal?.aborted) error = e instanceof DaemonEyeError ? e : new DaemonEyeError('DE_TAXII_PROTOCOL', (e as Error).message, { cause: e });
  }
  const interrupted = signal?.aborted === true;
  const firstReject = rejected[0];
  const lastError = error !== null ? `${error.code}: ${error.message}`
    : firstReject !== undefined ? `${firstReject.code}: ${rejectedCount} object(s) rejected, first ${firstReject.id}: ${firstReject.reason}` : null;
  if (!interrupted || lastError !== null) store.finishSync(feed.name, lastError);
  return {
    feed: feed.name, pages, objects, stored: added + replaced, cursor, cursorBefore, interrupted,
    added, replaced, revoked, older, ignored, malformed, rejected, error,
  };
}
