// What an agent reports to its center for fleet rarity: the executable paths its active model was
// trained on (the rarity:executable_path model's counts, already folded: /tmp/ci-job-#/build.sh),
// as hashes with on how many days of the window and how many times each ran. Bounded: the top
// MAX_REPORTED_PATHS by days then runs (the rare tail that is cut is exactly what the fleet would
// call rare anyway). Processes with no readable path ("[kworker/0:1]") are not paths and are left out.
import type { Db } from '../../store/open-store.ts';
import { unpackBundle } from '../lifecycle/model-store.ts';
import { pathHash } from './fleet-view.ts';

export const MAX_REPORTED_PATHS = 5000;

export interface PathSummary {
  /** The active model version the summary comes from (reported again only when it changes). */
  readonly version: number;
  readonly window_days: number;
  readonly paths: { h: string; days: number; runs: number }[];
}

interface FrequencyState { key: string; counts: [string, number][]; days?: [string, number][]; windowDays: number }

/** The summary of the active model version, or null on a cold start (nothing to report yet). */
export function hostPathSummary(db: Db, limit = MAX_REPORTED_PATHS): PathSummary | null {
  const row = db.prepare(`SELECT version, bundle FROM analytics_model_versions WHERE status = 'active'`).get() as { version: number; bundle: Buffer } | undefined;
  if (row === undefined) return null;
  const saved = unpackBundle(row.bundle, row.version);
  const model = saved.models.find((m) => m.kind === 'rarity' && (m.state as FrequencyState).key === 'executable_path');
  if (model === undefined) return null;
  const s = model.state as FrequencyState;
  const days = new Map(s.days ?? []);
  const paths = s.counts.filter(([p]) => p !== '' && !p.startsWith('['))
    .map(([p, runs]) => ({ p, runs, days: days.get(p) ?? Math.min(1, runs) }))
    .sort((a, b) => b.days - a.days || b.runs - a.runs || (a.p < b.p ? -1 : 1))
    .slice(0, limit)
    .map((x) => ({ h: pathHash(x.p), days: x.days, runs: x.runs }));
  return { version: row.version, window_days: Math.max(1, Math.round(s.windowDays)), paths };
}
