// The agent's half of fleet rarity, run with each center heartbeat (center-reporter.ts):
// 1. report this host's executable paths (hashes, days, runs: path-summary.ts) when the active model
//    version changed or the last report is older than REPORT_EVERY_MS (reports expire at the center
//    after its window, so a host that stops reporting stops counting);
// 2. fetch the fleet view when the center's fleet-paths revision moved past ours, and keep it in the
//    store (fleet-view.ts) for the trainer and the detector.
// A center without the endpoint (an older version: 404) is not an error: there is simply no view.
import type { Db } from '../../store/open-store.ts';
import { getState, setState } from '../lifecycle/model-store.ts';
import { readFleetView, saveFleetView, type FleetView } from './fleet-view.ts';
import { hostPathSummary } from './path-summary.ts';

export const FLEET_PATHS_ROUTE = '/api/v1/analytics/fleet-paths';
/** Reported again at least this often even with the same model version (keeps the report fresh at the center). */
export const REPORT_EVERY_MS = 6 * 3_600_000;

/** The subset of CenterHttp this needs (JSON in, JSON out; a refusal throws with its status). */
export interface JsonClient {
  json<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface FleetServed {
  readonly revision: number;
  readonly changed: boolean;
  readonly hosts?: number;
  readonly window_days?: number;
  readonly truncated?: boolean;
  readonly floor?: number;
  readonly paths?: { h: string; hosts: number }[];
}

export interface FleetSyncResult {
  readonly reported: number | null;
  readonly view: FleetView | null;
  readonly fetched: boolean;
}

export async function syncFleetPaths(http: JsonClient, db: Db, agentId: string, now = Date.now()): Promise<FleetSyncResult> {
  let reported: number | null = null;
  const summary = hostPathSummary(db);
  if (summary !== null) {
    const lastVersion = Number(getState(db, 'fleet_reported_version') ?? 0);
    const lastAt = Number(getState(db, 'fleet_reported_at') ?? 0);
    if (summary.version !== lastVersion || now - lastAt >= REPORT_EVERY_MS) {
      await http.json('POST', FLEET_PATHS_ROUTE, { agent_id: agentId, window_days: summary.window_days, paths: summary.paths });
      setState(db, 'fleet_reported_version', String(summary.version), now);
      setState(db, 'fleet_reported_at', String(now), now);
      reported = summary.paths.length;
    }
  }
  const current = readFleetView(db);
  // After our own report the view must be fetched again: it is computed without this host.
  const since = reported !== null ? 0 : current?.revision ?? 0;
  const served = await http.json<FleetServed>('GET', `${FLEET_PATHS_ROUTE}?since=${since}`);
  if (!served.changed || served.paths === undefined) return { reported, view: current, fetched: false };
  const view: FleetView = {
    revision: served.revision, hosts: served.hosts ?? 0, window_days: served.window_days ?? 0,
    truncated: served.truncated ?? false, floor: served.floor ?? 0, fetched_at: now,
    paths: Object.fromEntries(served.paths.map((p) => [p.h, p.hosts])),
  };
  saveFleetView(db, view);
  return { reported, view, fetched: true };
}
