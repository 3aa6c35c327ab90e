// Sharing back: sightings the matcher recorded (intel_sightings, shared_at NULL) are posted as a
// TAXII envelope to the configured writable collection, and the status resource decides what is
// marked shared. Re-posting is safe (TAXII servers keep one copy per id and version), so anything
// not confirmed — a failed POST, a status still pending — simply stays unshared for next time.
//
// With include_observed_data, each sighting goes with an observed-data object holding the matched
// observables (STIX 2.1 section 4.13), referenced from the sighting's observed_data_refs.

import type { Db } from '../../store/open-store.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { canonical, postInBatches, uuidV5, SCO_NAMESPACE, type ShareOptions, type ShareReport, type ShareTarget } from './share-engine.ts';

export type { ShareReport, ShareTarget } from './share-engine.ts';

interface SightingRow { sighting_id: string; first_seen: number; last_seen: number; count: number; observed: string; object: string }

/** One share round never takes more than this many sightings (the rest wait for the next round). */
export const MAX_PER_ROUND = 10_000;

export async function shareSightings(db: Db, client: TaxiiClient, target: ShareTarget, opts: ShareOptions = {}): Promise<ShareReport> {
  const rows = db.prepare(`SELECT sighting_id, first_seen, last_seen, count, observed, object FROM intel_sightings
    WHERE shared_at IS NULL ORDER BY first_seen, sighting_id LIMIT ?`).all(MAX_PER_ROUND) as SightingRow[];
  const markShared = db.prepare('UPDATE intel_sightings SET shared_at = ?, share_error = NULL WHERE sighting_id = ?');
  const markError = db.prepare('UPDATE intel_sightings SET share_error = ? WHERE sighting_id = ?');
  return postInBatches(db, client, target, rows.map((r) => ({ key: r.sighting_id, sightingId: r.sighting_id, build: () => stixFor(r, target.includeObservedData) })),
    { shared: (key, at) => markShared.run(at, key), error: (key, why) => markError.run(why, key) }, 'sighting', opts);
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

/**
 * The matched observables as STIX cyber-observable objects with ids (deterministic when absent).
 * The matcher stores referenced objects inlined for analysts (`image: {type: 'file', ...}` for
 * `image_ref`); they are turned back into objects of their own and `_ref`/`_refs` properties, as
 * STIX requires (a strict server would refuse an unknown `image` property).
 */
export function observables(observedJson: string): (Record<string, unknown> & { id: string })[] {
  let v: unknown;
  try {
    v = JSON.parse(observedJson);
  } catch {
    return [];
  }
  // A list of SCOs, or STIX 2.0-style {"0": sco, "1": sco} as observed-data `objects` holds them.
  const list = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v as object) : [];
  const out: (Record<string, unknown> & { id: string })[] = [];
  const isSco = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o)
    && typeof (o as { type?: unknown }).type === 'string' && /^[a-z0-9-]{1,250}$/.test((o as { type: string }).type);
  const add = (sco: Record<string, unknown>, depth: number): string => {
    const { id, ...rest } = sco;
    const content: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(rest)) {
      if (depth < 2 && isSco(val)) content[`${k}_ref`] = add(val, depth + 1);
      else if (depth < 2 && Array.isArray(val) && val.length > 0 && val.every(isSco)) content[`${k}_refs`] = val.slice(0, 100).map((x) => add(x, depth + 1));
      else content[k] = val;
    }
    const type = sco.type as string;
    const sid = typeof id === 'string' && id.startsWith(`${type}--`) ? id : `${type}--${uuidV5(SCO_NAMESPACE, canonical(content))}`;
    if (!out.some((o) => o.id === sid)) out.push({ ...content, type, spec_version: '2.1', id: sid });
    return sid;
  };
  for (const o of list.slice(0, 100)) if (isSco(o)) add(o, 0);
  return out;
}
