// Error codes for security centers, enrolment and federation (DE_CENTER_*, DE_ENROLL_*, DE_FED_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const CENTER_ERRORS = {
} as const satisfies Record<string, ErrorSpec>;
