// Training on the store's sliding window: load the observations of the last `windowDays`, leave out
// the processes an alert was raised on, fit every model, and pack the result. Pure CPU and reads:
// the agent runs it in a worker thread (train-worker.ts) so detection never waits for it.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Db } from '../../store/open-store.ts';
import { extractFeatures } from '../features/extract-features.ts';
import { alertedProcesses, loadObservations, wasAlerted } from '../features/load-observations.ts';
import { defaultModels, Ensemble } from '../models/ensemble.ts';
import { packBundle, type TrainedSet } from './model-store.ts';
import { readFleetView } from '../fleet/fleet-view.ts';

export const MIN_TRAINING_ROWS = 10;

export interface TrainOptions {
  readonly windowDays: number;
  readonly threshold: number;
  readonly seed: number;
  readonly trees?: number;
  /** Include the isolation forest (enterprise.analytics.enable_machine_learning). */
  readonly machineLearning?: boolean;
  readonly now?: number;
}

export function trainFromStore(db: Db, opts: TrainOptions): TrainedSet {
  const started = performance.now();
  const windowTo = opts.now ?? Date.now();
  const windowFrom = windowTo - opts.windowDays * 86_400_000;
  const all = loadObservations(db, { from: windowFrom, to: windowTo });
  const alerted = alertedProcesses(db, windowFrom);
  const rows = all.filter((o) => !wasAlerted(alerted, o));
  if (rows.length < MIN_TRAINING_ROWS) {
    throw new DaemonEyeError('DE_ANALYTICS_TOO_FEW_ROWS', `the last ${opts.windowDays} days hold ${rows.length} usable process observations; training needs ${MIN_TRAINING_ROWS}`,
      { hint: 'let the agent run for a while (`daemoneye run`): the first model trains on its own once there is history' });
  }
  // The window's actual span: explanations say "in 3 days" when the store only has 3 days.
  const first = rows.reduce((m, o) => Math.min(m, o.start_time), windowTo);
  const spanDays = Math.max(1, Math.min(opts.windowDays, Math.round((windowTo - first) / 86_400_000)));
  const ensemble = new Ensemble(defaultModels({ trees: opts.trees ?? 100, machineLearning: opts.machineLearning ?? true }), opts.threshold);
  ensemble.fit(rows.map(extractFeatures), { windowDays: spanDays, seed: opts.seed, fleetView: readFleetView(db) });
  return {
    bundle: packBundle(ensemble.save()), models: ensemble.status(), trainingRows: rows.length, excludedRows: all.length - rows.length,
    windowFrom, windowTo, seed: opts.seed, durationMs: performance.now() - started,
  };
}
