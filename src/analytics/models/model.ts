// The one interface every behavioural model implements: fit on a training window, score rows,
// save to JSON and load back, and describe itself (status, explanations, "too little history").
// Scores are calibrated inside each model (calibration.ts), so models combine on one scale.
import type { FeatureRow } from '../features/feature-row.ts';
import type { FleetView } from '../fleet/fleet-view.ts';

export interface Contribution {
  /** The feature (docs/analytics.md) that made the row unusual. */
  readonly feature: string;
  readonly value: string | number;
  /** One line an analyst can read: "parent nginx → child sh seen 0 times in 14 days on this host". */
  readonly text: string;
  /** How strongly it contributed, on the calibrated 0..1 scale. */
  readonly weight: number;
}

export interface ModelScore {
  readonly model: string;
  readonly raw: number;
  /** Tail probability of the raw score on the training data. */
  readonly p: number;
  /** min(1, -log10(p) / 4). */
  readonly calibrated: number;
  readonly contributions: readonly Contribution[];
}

export interface ModelDescription {
  readonly name: string;
  readonly kind: string;
  /** Models of one family see the same signal (they are combined by their minimum p, not multiplied). */
  readonly family: string;
  readonly trainingRows: number;
  /** The highest calibrated score the model's history allows. */
  readonly ceiling: number;
  readonly params: Readonly<Record<string, unknown>>;
  /** Why the model is weighted 0 whatever its history (the fleet model without a fleet view). */
  readonly unavailable?: string;
}

export interface SavedModel {
  readonly kind: string;
  readonly name: string;
  readonly state: unknown;
}

export interface FitContext {
  /** Days of history the rows cover: explanations say "in 14 days". */
  readonly windowDays: number;
  readonly seed: number;
  /** The fleet's executable paths as last received from the center (null: no center, or none yet). */
  readonly fleetView?: FleetView | null;
}

export interface Model {
  readonly name: string;
  readonly kind: string;
  readonly family: string;
  fit(rows: readonly FeatureRow[], context: FitContext): void;
  score(rows: readonly FeatureRow[]): ModelScore[];
  save(): SavedModel;
  describe(): ModelDescription;
}
