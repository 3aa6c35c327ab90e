// Saved model → Model, by kind. The only place that knows every concrete model class.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { BaselineModel } from './baseline-model.ts';
import { FleetRarityModel } from './fleet-model.ts';
import { FrequencyModel } from './frequency-model.ts';
import { IsolationForestModel } from './iforest-model.ts';
import type { Model, SavedModel } from './model.ts';

export function loadModel(saved: SavedModel): Model {
  switch (saved.kind) {
    case 'iforest': return IsolationForestModel.load(saved);
    case 'rarity': return FrequencyModel.load(saved);
    case 'baseline': return BaselineModel.load(saved);
    case 'fleet_rarity': return FleetRarityModel.load(saved);
    default: throw new DaemonEyeError('DE_ANALYTICS_CORRUPT', `saved model "${saved.name}" has unknown kind "${saved.kind}"`);
  }
}
