// Sharing back: sightings the matcher recorded (intel_sightings, shared_at NULL) are posted as a
// TAXII envelope to the configured writable collection, and the status resource decides what is
// marked shared. Re-posting is safe (TAXII servers keep one copy per id and version), so anything
// not confirmed — a failed POST, a status still pending — simply stays unshared for next time.
//
// With include_observed_data, each sighting goes with an observed-data object holding the matched
// observables (STIX 2.1 section 4.13), referenced from the sighting's observed_data_refs.

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

interface SightingRow { sighting_id: string; first_seen: number; last_seen: number; count: number; observed: string; object: string }

/** One share round never takes more than this many sightings (the rest wait for the next round). */
const MAX_PER_ROUND = 10_000;
/** STIX 2.1 section 2.9: the namespace of deterministic (UUIDv5) SCO ids. */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

export async function shareSightings(db: Db, client: TaxiiClient, target: ShareTarget,
  opts: { pollMs?: number; maxPolls?: number; now?: () => number } = {}): Promise<ShareReport> {
  const now = opts.now ?? Date.now;
  const rows = db.prepare(`SELECT sighting_id, first_seen, last_seen, count, observed, object FROM intel_sightings
    WHERE shared_at IS NULL ORDER BY first_seen, sighting_id LIMIT ?`).all(MAX_PER_ROUND) as SightingRow[];
  const markShared = db.prepare('UPDATE intel_sightings SET shared_at = ?, share_error = NULL WHERE sighting_id = ?');
  const markError = db.prepare('UPDATE intel_sightings SET share_error = ? WHERE sighting_id = ?');
  let shared = 0, failed = 0, pending = 0;
  for (let i = 0; i < rows.length; i += target.batchSize) {
    const batch = rows.slice(i, i + target.batchSize);
    const objects: unknown[] = [];
    const ids: string[] = [];
    for (const r of batch) {
      const built = stixFor(r, target.includeObservedData);
      if (typeof built === 'string') {
        markError.run(built, r.sighting_id);
        failed++;
        continue;
      }
      objects.push(...built);
      ids.push(r.sighting_id);
    }
    if (ids.length === 0) continue;
    let status: TaxiiStatus;
    try {
      status = await client.addObjects(target.url, target.collectionId, objects);
      if (status.status !== 'complete') status = await client.waitForStatus(target.url, status, { pollMs: opts.pollMs ?? 1000, maxPolls: opts.maxPolls ?? 10 });
    } catch (e) {
      const err = e instanceof DaemonEyeError ? e : new DaemonEyeError('DE_TAXII_PROTOCOL', (e as Error).message, { cause: e });
      db.transaction(() => { for (const id of ids) markError.run(`${err.code}: ${err.message}`.slice(0, 500), id); })();
      return { attempted: shared + failed + pending + ids.length, shared, failed, pending: pending + ids.length, error: err };
    }
    const out = settle(status, ids);
    const at = now();
    db.transaction(() => {
      for (const id of out.shared) markShared.run(at, id);
      for (const [id, why] of out.failed) markError.run(`DE_TAXII_STATUS: ${why}`.slice(0, 500), id);
      for (const id of out.pending) markError.run(`DE_TAXII_STATUS: still pending at the server (status ${status.id})`, id);
    })();
    shared += out.shared.length; failed += out.failed.size; pending += out.pending.length;
  }
  const error = failed + pending > 0
    ? new DaemonEyeError('DE_TAXII_STATUS', `${failed} sighting(s) refused and ${pending} still pending at ${target.url}`) : null;
  return { attempted: rows.length, shared, failed, pending, error };
}

/** Which sightings the status confirms. A status without per-object lists confirms all or none. */
function settle(s: TaxiiStatus, ids: readonly string[]): { shared: string[]; failed: Map<string, string>; pending: string[] } {
  const failed = new Map((s.failures ?? []).filter((f) => ids.includes(f.id)).map((f) => [f.id, f.message ?? 'refused by the server']));
  if (s.successes === undefined && s.failures === undefined && s.pendings === undefined) {
    const all = s.status === 'complete' && s.failure_count === 0 && s.pending_count === 0;
    return all ? { shared: [...ids], failed, pending: [] } : { shared: [], failed, pending: [...ids] };
  }
  const ok = new Set((s.successes ?? []).map((x) => x.id));
  return {
    shared: ids.filter((id) => ok.has(id) && !failed.has(id)),
    failed,
    // Listed as pending, or not listed at all: either way not confirmed, so posted again next time.
    pending: ids.filter((id) => !ok.has(id) && !failed.has(id)),
  };
}

/** The STIX objects posted for one sighting row, or why it cannot be shared. */
function stixFor(r: SightingRow, withObserved: boolean): unknown[] | string {
  let sighting: Record<string, unknown>;
  try {
    sighting = JSON.parse(r.object) as Record<string, unknown>;
  } catch {
    return 'DE_TAXII_INVALID_OBJECT: the stored sighting is not JSON';
  }
  if (sighting === null || typeof sighting !== 'object' || sighting.type !== 'sighting' || sighting.id !== r.sighting_id) {
    return 'DE_TAXII_INVALID_OBJECT: the stored object is not the sighting of this row';
  }
  if (!withObserved) return [sighting];
  const scos = observables(r.observed);
  if (scos.length === 0) return [sighting];
  const first = new Date(r.first_seen).toISOString();
  const last = new Date(Math.max(r.last_seen, r.first_seen)).toISOString();
  const odId = `observed-data--${uuidV5(SCO_NAMESPACE, `${r.sighting_id}|${r.last_seen}|${r.count}`)}`;
  const od = {
    type: 'observed-data', spec_version: '2.1', id: odId, created: last, modified: last,
    first_observed: first, last_observed: last, number_observed: Math.max(1, Math.min(r.count, 999_999_999)),
    object_refs: scos.map((s) => s.id),
  };
  const refs = Array.isArray(sighting.observed_data_refs) ? sighting.observed_data_refs as string[] : [];
  return [...scos, od, { ...sighting, observed_data_refs: [...new Set([...refs, odId])] }];
}

/** The matched observables as STIX cyber-observable objects with ids (deterministic when absent). */
function observables(observedJson: string): (Record<string, unknown> & { id: string })[] {
  let v: unknown;
  try {
    v = JSON.parse(observedJson);
  } catch {
    return [];
  }
  // A list of SCOs, or STIX 2.0-style {"0": sco, "1": sco} as observed-data `objects` holds them.
  const list = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v as object) : [];
  const out: (Record<string, unknown> & { id: string })[] = [];
  for (const o of list.slice(0, 100)) {
    if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof (o as { type?: unknown }).type !== 'string') continue;
    const sco = o as Record<string, unknown>;
    const type = sco.type as string;
    if (!/^[a-z0-9-]{1,250}$/.test(type)) continue;
    const { id, ...content } = sco;
    const sid = typeof id === 'string' && id.startsWith(`${type}--`) ? id : `${type}--${uuidV5(SCO_NAMESPACE, canonical(content))}`;
    out.push({ ...content, type, spec_version: '2.1', id: sid });
  }
  return out;
}

function canonical(v: unknown): string {
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
