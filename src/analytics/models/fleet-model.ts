// Fleet rarity of the executable path (issue 7): on how many of the fleet's other hosts the path
// ran in the window, from the view the center serves (fleet/fleet-view.ts). "executable /tmp/x seen
// on 0 of 12 other hosts in 14 days" is a different fact from "never run on this host": a new
// /usr/bin/htop is on half the fleet, a dropper is on none.
// The raw score is -log10 of the smoothed share of other hosts, (h + 0.5) / (H + 1). Calibration is
// like every other model's: the distribution of raw scores over this host's own training rows (the
// paths it ran, weighted by how often), so "on no other host" is only surprising on a host whose own
// work is mostly what the rest of the fleet runs too. The model keeps the per-path training counts,
// so a newer view recalibrates without the training rows (useView). With no view (no center, cold
// start at the center) or fewer than MIN_FLEET_HOSTS other hosts the model is weighted 0 and says why.
import type { FeatureRow } from '../features/feature-row.ts';
import { hostsFor, pathHash, type FleetView } from '../fleet/fleet-view.ts';
import { Calibration, type SavedCalibration } from './calibration.ts';
import type { FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

const ALPHA = 0.5;
/** Below this many other hosts, "seen on 0 of them" says little about a path. */
export const MIN_FLEET_HOSTS = 3;
const KEY = 'executable_path';

interface State {
  readonly counts: [string, number][];
  readonly total: number;
  readonly seed: number;
  readonly view: FleetView | null;
  readonly calibration: SavedCalibration | null;
}

export class FleetRarityModel implements Model {
  readonly name = 'fleet_rarity:executable_path';
  readonly kind = 'fleet_rarity';
  readonly family = 'rarity';
  #counts = new Map<string, number>();
  #total = 0;
  #seed = 1;
  #view: FleetView | null = null;
  #calibration: Calibration | null = null;
  #fitted = false;
  readonly #hashes = new Map<string, string>();

  #hash(path: string): string {
    let h = this.#hashes.get(path);
    if (h === undefined) {
      if (this.#hashes.size > 50_000) this.#hashes.clear();
      h = pathHash(path);
      this.#hashes.set(path, h);
    }
    return h;
  }

  #hostsSeen(path: string): number {
    return this.#view === null ? 0 : hostsFor(this.#view, this.#hash(path));
  }

  #raw(path: string): number {
    const view = this.#view;
    if (view === null) return 0;
    return -Math.log10((Math.min(this.#hostsSeen(path), view.hosts) + ALPHA) / (view.hosts + 2 * ALPHA));
  }

  /** Why the model cannot take part, or null when it can. */
  #unavailable(): string | null {
    if (this.#view === null) return 'weight 0: no fleet view (no center, or the center has no reports yet)';
    if (this.#view.hosts < MIN_FLEET_HOSTS) return `weight 0: the fleet view covers ${this.#view.hosts} other host${this.#view.hosts === 1 ? '' : 's'}; fleet rarity needs ${MIN_FLEET_HOSTS}`;
    return null;
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    this.#counts = new Map();
    for (const r of rows) {
      const v = r.categorical[KEY] ?? '';
      this.#counts.set(v, (this.#counts.get(v) ?? 0) + 1);
    }
    this.#total = rows.length;
    this.#seed = context.seed;
    this.#fitted = true;
    this.useView(context.fleetView ?? null);
  }

  /** Switches to another fleet view and recalibrates from the training counts. */
  useView(view: FleetView | null): void {
    this.#view = view;
    if (view === null) {
      this.#calibration = null;
      return;
    }
    // Each training row's score, without the rows: a path run n times contributes n equal scores.
    const scores = new Float64Array(this.#total);
    let i = 0;
    for (const [path, n] of this.#counts) scores.fill(this.#raw(path), i, (i += n));
    this.#calibration = Calibration.fromScores(scores.subarray(0, i), this.#seed);
  }

  get view(): FleetView | null {
    return this.#view;
  }

  score(rows: readonly FeatureRow[]): ModelScore[] {
    if (!this.#fitted) throw new Error(`${this.name} is not fitted`);
    const cal = this.#calibration;
    const view = this.#view;
    return rows.map((r) => {
      if (cal === null || view === null) return { model: this.name, raw: 0, p: 1, calibrated: 0, contributions: [] };
      const v = r.categorical[KEY] ?? '';
      const raw = this.#raw(v);
      const p = cal.tail(raw);
      const calibrated = cal.calibrated(raw);
      const seen = this.#hostsSeen(v);
      const text = `executable ${v} seen on ${view.truncated && seen === view.floor && view.paths[this.#hash(v)] === undefined ? `at most ${seen}` : seen} of ${view.hosts} other hosts in ${view.window_days} days (fleet)`;
      return { model: this.name, raw, p, calibrated, contributions: calibrated > 0.3 ? [{ feature: 'fleet_path_hosts', value: seen, text, weight: calibrated }] : [] };
    });
  }

  save(): SavedModel {
    if (!this.#fitted) throw new Error(`${this.name} is not fitted`);
    const state: State = { counts: [...this.#counts], total: this.#total, seed: this.#seed, view: this.#view, calibration: this.#calibration?.save() ?? null };
    return { kind: this.kind, name: this.name, state };
  }

  static load(saved: SavedModel): FleetRarityModel {
    const s = saved.state as State;
    const m = new FleetRarityModel();
    m.#counts = new Map(s.counts);
    m.#total = s.total;
    m.#seed = s.seed;
    m.#view = s.view;
    m.#calibration = s.calibration === null ? null : Calibration.load(s.calibration);
    m.#fitted = true;
    return m;
  }

  describe(): ModelDescription {
    const unavailable = this.#unavailable();
    return {
      name: this.name, kind: this.kind, family: this.family, trainingRows: this.#total,
      ceiling: unavailable === null ? this.#calibration?.ceiling ?? 0 : 0,
      ...(unavailable === null ? {} : { unavailable }),
      params: {
        key: KEY, alpha: ALPHA, min_fleet_hosts: MIN_FLEET_HOSTS, fleet_hosts: this.#view?.hosts ?? null,
        fleet_paths: this.#view === null ? 0 : Object.keys(this.#view.paths).length, fleet_revision: this.#view?.revision ?? null,
        fleet_window_days: this.#view?.window_days ?? null,
      },
    };
  }
}
