// Error codes for packet capture, decoding and flows (DE_PCAP_*, DE_NET_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const NETWORK_ERRORS = {
} as const satisfies Record<string, ErrorSpec>;
