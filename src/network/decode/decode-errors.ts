// Malformed input is counted by reason, never thrown (STYLE habit 4). One counter object per
// decoder instance: a plain record keeps the hot path to one property increment.

export const DECODE_ERROR_REASONS = [
  'batch_truncated', 'link_short', 'link_unsupported', 'vlan_short', 'ethertype_unsupported',
  'ipv4_short', 'ipv4_bad_header_length', 'ipv4_bad_total_length', 'ipv6_short', 'ipv6_ext_short',
  'ip_version_mismatch', 'fragment_overlap', 'fragment_too_large', 'fragment_table_full', 'fragment_timeout',
  'tcp_short', 'tcp_bad_offset', 'udp_short', 'udp_bad_length', 'icmp_short',
  'dns_short', 'dns_bad_name', 'dns_name_loop', 'dns_bad_record',
  'tls_short', 'tls_bad_record', 'tls_bad_handshake', 'tls_bad_extension',
  'http_bad_request', 'ssh_bad_banner',
] as const;

export type DecodeErrorReason = (typeof DECODE_ERROR_REASONS)[number];
export type DecodeErrors = Record<DecodeErrorReason, number>;

export function newDecodeErrors(): DecodeErrors {
  const e = {} as DecodeErrors;
  for (const r of DECODE_ERROR_REASONS) e[r] = 0;
  return e;
}

export function totalDecodeErrors(e: DecodeErrors): number {
  let n = 0;
  for (const r of DECODE_ERROR_REASONS) n += e[r];
  return n;
}

/** Only the reasons that occurred, for summaries and logs. */
export function nonZero(e: DecodeErrors): Partial<DecodeErrors> {
  const out: Partial<DecodeErrors> = {};
  for (const r of DECODE_ERROR_REASONS) if (e[r] > 0) out[r] = e[r];
  return out;
}
