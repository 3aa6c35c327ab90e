// Error codes for behavioural models (DE_ANALYTICS_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const ANALYTICS_ERRORS = {
  DE_ANALYTICS_CSV: {
    summary: 'a feature table (CSV) given to `daemoneye analytics score` cannot be used',
    hint: 'the first line names the columns; every other cell of a feature column must be a number (the message names the row and column); --features picks columns, --ignore drops id/label columns',
    exit: 2,
  },
  DE_ANALYTICS_MODEL: {
    summary: 'no model of that name, or model options out of range',
    hint: 'models are iforest, rarity and baseline; `daemoneye analytics score --help` lists the options',
    exit: 2,
  },
  DE_ANALYTICS_TOO_FEW_ROWS: {
    summary: 'too few training rows to fit the model',
    hint: 'an isolation forest needs at least 2 rows and cannot reach a calibrated 0.8 below 1,585; give a longer training table or window',
    exit: 2,
  },
  DE_ANALYTICS_NO_VERSION: {
    summary: 'the model version asked for does not exist',
    hint: '`daemoneye analytics status` lists the stored versions; rollback needs an earlier version than the active one',
    exit: 2,
  },
  DE_ANALYTICS_CORRUPT: {
    summary: 'a stored model version cannot be read back',
    hint: 'roll back to an earlier version (`daemoneye analytics rollback`) or retrain (`daemoneye analytics train`); the stored rows are left as they are',
    exit: 3,
  },
} as const satisfies Record<string, ErrorSpec>;
