// Posting STIX objects to a writable TAXII collection in batches and settling each source row by
// the status resource: confirmed rows are marked shared, refused ones keep the server's reason,
// unconfirmed ones (pending, or a failed POST) stay unshared and are posted again next round —
// safe, because TAXII servers keep one copy per object id and version.

import { createHash } from 'node:crypto';
import type { Db } from '../../store/open-store.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { TaxiiClient, TaxiiStatus } from '../taxii/taxii-client.ts';

export interface ShareTarget {
  readonly url: string;
  readonly collectionId: string;
  readonly includeObservedData: boolean;
  readonly batchSize: number;
}

export interface ShareReport {
  readonly attempted: number;
  readonly shared: number;
  readonly failed: number;
  readonly pending: number;
  readonly error: DaemonEyeError | null;
}

export interface ShareOptions {
  readonly pollMs?: number;
  readonly maxPolls?: number;
  readonly now?: () => number;
}

/** One source row: its key in its table, the id of the sighting that confirms it, its objects. */
export interface ShareItem {
  readonly key: string;
  readonly sightingId: string;
  /** The objects to post, or why the row cannot be shared. */
  readonly build: () => unknown[] | string;
}

export interface RowMarks {
  shared(key: string, at: number): void;
  error(key: string, why: string): void;
}

/** STIX 2.1 section 2.9: the namespace of deterministic (UUIDv5) SCO ids. */
export const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

export async function postInBatches(db: Db, client: TaxiiClient, target: ShareTarget, items: readonly ShareItem[], mark: RowMarks,
  what: string, opts: ShareOptions = {}): Promise<ShareReport> {
  const now = opts.now ?? Date.now;
  let shared = 0, failed = 0, pending = 0;
  for (let i = 0; i < items.length; i += target.batchSize) {
    const objects: unknown[] = [];
    const posted: ShareItem[] = [];
    for (const item of items.slice(i, i + target.batchSize)) {
      const built = item.build();
      if (typeof built === 'string') {
        mark.error(item.key, built);
        failed++;
        continue;
      }
      objects.push(...built);
      posted.push(item);
    }
    if (posted.length === 0) continue;
    let status: TaxiiStatus;
    try {
      status = await client.addObjects(target.url, target.collectionId, objects);
      if (status.status !== 'complete') status = await client.waitForStatus(target.url, status, { pollMs: opts.pollMs ?? 1000, maxPolls: opts.maxPolls ?? 10 });
    } catch (e) {
      const err = e instanceof DaemonEyeError ? e : new DaemonEyeError('DE_TAXII_PROTOCOL', (e as Error).message, { cause: e });
      db.transaction(() => { for (const it of posted) mark.error(it.key, `${err.code}: ${err.message}`.slice(0, 500)); })();
      return { attempted: shared + failed + pending + posted.length, shared, failed, pending: pending + posted.length, error: err };
    }
    const out = settle(status, posted.map((p) => p.sightingId));
    const at = now();
    db.transaction(() => {
      for (const it of posted) {
        if (out.shared.has(it.sightingId)) mark.shared(it.key, at);
        else if (out.failed.has(it.sightingId)) mark.error(it.key, `DE_TAXII_STATUS: ${out.failed.get(it.sightingId)!}`.slice(0, 500));
        else mark.error(it.key, `DE_TAXII_STATUS: still pending at the server (status ${status.id})`);
      }
    })();
    shared += out.shared.size; failed += out.failed.size; pending += posted.length - out.shared.size - out.failed.size;
  }
  const error = failed + pending > 0
    ? new DaemonEyeError('DE_TAXII_STATUS', `${failed} ${what}(s) refused and ${pending} still pending at ${target.url}`) : null;
  return { attempted: items.length, shared, failed, pending, error };
}

/**
 * Which sightings the status confirms. A status without per-object lists confirms all or none;
 * an id neither in successes nor in failures is not confirmed (posted again next round).
 */
function settle(s: TaxiiStatus, ids: readonly string[]): { shared: Set<string>; failed: Map<string, string> } {
  const failed = new Map((s.failures ?? []).filter((f) => ids.includes(f.id)).map((f) => [f.id, f.message ?? 'refused by the server']));
  if (s.successes === undefined && s.failures === undefined && s.pendings === undefined) {
    const all = s.status === 'complete' && s.failure_count === 0 && s.pending_count === 0;
    return { shared: new Set(all ? ids : []), failed };
  }
  const ok = new Set((s.successes ?? []).map((x) => x.id));
  return { shared: new Set(ids.filter((id) => ok.has(id) && !failed.has(id))), failed };
}

export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** RFC 9562 UUIDv5 (SHA-1, namespace + name). */
export function uuidV5(namespace: string, name: string): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
