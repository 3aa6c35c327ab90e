// The set of models the agent runs, fitted together on one training window and scored together.
// Each model's weight is 1 when its history can reach the alert threshold and 0 (with the reason)
// when it cannot; per row, a model that has nothing to say (no resource measurement) is left out.
import type { FeatureRow } from '../features/feature-row.ts';
import { rowsNeeded } from './calibration.ts';
import { combine } from './combine.ts';
import { BaselineModel } from './baseline-model.ts';
import { FleetRarityModel } from './fleet-model.ts';
import { FrequencyModel } from './frequency-model.ts';
import { IsolationForestModel } from './iforest-model.ts';
import { loadModel } from './load-model.ts';
import type { Contribution, FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

/** Numeric features the live isolation forest uses (lifetime is left out: unknown when a process starts). */
export const LIVE_IFOREST_FEATURES = ['cmdline_length', 'cmdline_entropy', 'arg_base64', 'arg_urls', 'arg_ip_literals',
  'child_spawn_rate', 'network_fan_out', 'location_code'] as const;

/** The agent's models: rarity and baselines always; the isolation forest when machine learning is on. */
export function defaultModels(options: { trees?: number; machineLearning?: boolean } = {}): Model[] {
  return [
    new FrequencyModel('parent_child'),
    new FrequencyModel('executable_path'),
    // The same path among the fleet's other hosts (weight 0 until a center serves a fleet view).
    new FleetRarityModel(),
    new FrequencyModel('user_executable'),
    // Where programs run from is its own signal (a new tool in /usr/bin is not a dropper in /dev/shm).
    new FrequencyModel('location_class', 'rarity:location_class', 'location'),
    ...(options.machineLearning ?? true ? [new IsolationForestModel(LIVE_IFOREST_FEATURES, { trees: options.trees ?? 100, oneSided: true })] : []),
    new BaselineModel(),
  ];
}

export interface ModelStatus extends ModelDescription {
  readonly weight: number;
  readonly note: string;
}

export interface RowScore {
  readonly score: number;
  readonly p: number;
  readonly models: readonly ModelScore[];
  /** Top contributing features, strongest first. */
  readonly contributions: readonly Contribution[];
  readonly explanation: string;
}

export interface SavedEnsemble {
  readonly format: 1;
  readonly models: readonly SavedModel[];
}

export class Ensemble {
  readonly models: readonly Model[];
  readonly threshold: number;

  constructor(models: readonly Model[], threshold: number) {
    this.models = models;
    this.threshold = threshold;
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    for (const m of this.models) m.fit(rows, context);
  }

  status(): ModelStatus[] {
    const need = rowsNeeded(this.threshold);
    return this.models.map((m) => {
      const d = m.describe();
      const ok = d.unavailable === undefined && d.ceiling >= this.threshold;
      return {
        ...d, weight: ok ? 1 : 0,
        note: ok ? 'active' : d.unavailable !== undefined ? d.unavailable : `weight 0: ${d.trainingRows} training rows can reach at most ${d.ceiling.toFixed(2)}; reaching ${this.threshold} needs ${need}`,
      };
    });
  }

  score(rows: readonly FeatureRow[]): RowScore[] {
    const weights = this.status().map((s) => s.weight);
    const perModel = this.models.map((m) => m.score(rows));
    return rows.map((r, i) => {
      const models = perModel.map((s) => s[i]!);
      const hasResource = r.numeric['cpu_usage'] !== undefined || r.numeric['memory_log2'] !== undefined;
      const { p, calibrated } = combine(models.map((s, j) => ({
        family: this.models[j]!.family, p: s.p,
        weight: this.models[j]!.family === 'resource' && !hasResource ? 0 : weights[j]!,
      })));
      // Explanations only for rows worth keeping (analytics_scores keeps 0.5 and up).
      if (calibrated < 0.3) return { score: calibrated, p, models, contributions: [], explanation: '' };
      const contributions = models.filter((_, j) => weights[j]! > 0).flatMap((s) => s.contributions)
        .sort((a, b) => b.weight - a.weight).slice(0, 3);
      return { score: calibrated, p, models, contributions, explanation: contributions.map((c) => c.text).join('; ') };
    });
  }

  save(): SavedEnsemble {
    return { format: 1, models: this.models.map((m) => m.save()) };
  }

  static load(saved: SavedEnsemble, threshold: number): Ensemble {
    return new Ensemble(saved.models.map(loadModel), threshold);
  }
}
