// Error codes for STIX patterns and TAXII feeds (DE_STIX_*, DE_TAXII_*, DE_INTEL_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const INTEL_ERRORS = {
} as const satisfies Record<string, ErrorSpec>;
