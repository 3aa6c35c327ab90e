// The fleet's view of executable paths, as this agent last received it from its center (issue 7:
// executable path rarity fleet-wide). Paths travel as hashes only (pathHash): the center learns
// which hashes each host runs, never the paths themselves (docs/analytics.md "Fleet rarity").
// The view lives in the store's analytics_state table so the agent's reporter (which fetches it),
// the trainer (a worker thread) and `daemoneye analytics status` all read the same copy.
import { createHash } from 'node:crypto';
import type { Db } from '../../store/open-store.ts';
import { getState, setState } from '../lifecycle/model-store.ts';

/** 64 bits of SHA-256 of the folded path: collisions are negligible at a fleet's few 100,000 paths. */
export function pathHash(foldedPath: string): string {
  return createHash('sha256').update(foldedPath).digest('hex').slice(0, 16);
}

export interface FleetView {
  /** The center's fleet-paths revision this view reflects (the `since` of the next request). */
  readonly revision: number;
  /** Other hosts (this one left out) with a report in the window. */
  readonly hosts: number;
  /** The window the hosts' reports cover. */
  readonly window_days: number;
  /** path hash → how many other hosts ran it in the window. */
  readonly paths: Readonly<Record<string, number>>;
  /** True when the center cut the list at its limit: an absent path was then seen on at most `floor` hosts. */
  readonly truncated: boolean;
  readonly floor: number;
  readonly fetched_at: number;
}

const KEY = 'fleet_view';

export function readFleetView(db: Db): FleetView | null {
  let raw: string | null;
  try {
    raw = getState(db, KEY);
  } catch {
    return null; // a store from before the analytics tables: no view
  }
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as FleetView;
    if (typeof v.hosts !== 'number' || typeof v.paths !== 'object' || v.paths === null) return null;
    return v;
  } catch {
    return null; // a damaged view is no view: the fleet model is weighted 0, detection goes on
  }
}

export function saveFleetView(db: Db, view: FleetView): void {
  setState(db, KEY, JSON.stringify(view));
}

/** Hosts a path was seen on, by the view (an absent path: 0, or the floor of a truncated list). */
export function hostsFor(view: FleetView, hash: string): number {
  return view.paths[hash] ?? (view.truncated ? view.floor : 0);
}
