// Error codes for behavioural models (DE_ANALYTICS_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const ANALYTICS_ERRORS = {
} as const satisfies Record<string, ErrorSpec>;
