// Error codes for Windows ETW and macOS EndpointSecurity (DE_ETW_*, DE_ES_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const PLATFORM_ERRORS = {
} as const satisfies Record<string, ErrorSpec>;
