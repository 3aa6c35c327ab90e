// RFC 5424 syslog messages for alerts:
//   <PRI>1 TIMESTAMP HOSTNAME daemoneye - MSGID [SD-ID alert_uuid="..." ...] MSG
// PRI = facility * 8 + severity (low notice 5, medium warning 4, high err 3, critical crit 2);
// TIMESTAMP is the alert's first_seen, so a replayed alert is byte-identical; MSGID is the rule
// id; STRUCTURED-DATA carries the alert's fields (alert_uuid first: receivers dedupe on it), with
// `"`, `\` and `]` escaped per section 6.3.3; MSG is "rule name: summary", or the CEF record.
import type { Alert } from '../alerts/alert.ts';
import type { Severity } from '../detect/sql/rule.ts';
import { formatCef } from './cef.ts';

export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { low: 5, medium: 4, high: 3, critical: 2 };

export interface Rfc5424Options {
  /** Facility code, 0-23 (local0 = 16). */
  readonly facility: number;
  /** SD-ID, e.g. daemoneye@32473. */
  readonly sdId: string;
  /** rfc5424: MSG is "rule name: summary" and SD holds every field; cef: MSG is the CEF record, SD only alert_uuid. */
  readonly format: 'rfc5424' | 'cef';
  /** DaemonEye's version (CEF header). */
  readonly version: string;
  /** Longest message in bytes; longer ones have fields cut (see formatRfc5424). */
  readonly maxBytes?: number | undefined;
}

export function escapeSdValue(value: string): string {
  return value.toWellFormed().replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** HOSTNAME, MSGID: printable US-ASCII without spaces, bounded; `-` (NILVALUE) when empty. */
function headerToken(value: string, max: number): string {
  const t = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t === '' ? '-' : t;
}

function sdParams(a: Alert, format: Rfc5424Options['format']): [string, string][] {
  if (format === 'cef') return [['alert_uuid', a.alert_uuid]];
  const all: [string, string | number | null][] = [
    ['alert_uuid', a.alert_uuid], ['rule_id', a.rule_id], ['rule_version', a.rule_version], ['severity', a.severity],
    ['attack_ids', a.attack_ids.join(',')], ['tags', a.tags.join(',')], ['host', a.host], ['pid', a.pid],
    ['process_name', a.process_name], ['executable_path', a.executable_path], ['command_line', a.command_line],
    ['occurrences', a.occurrences], ['first_seen', a.first_seen], ['last_seen', a.last_seen],
  ];
  return all.filter((p): p is [string, string | number] => p[1] !== null).map(([k, v]) => [k, String(v)]);
}

function build(a: Alert, o: Rfc5424Options): string {
  const pri = o.facility * 8 + SYSLOG_SEVERITY[a.severity];
  const sd = `[${o.sdId}${sdParams(a, o.format).map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`).join('')}]`;
  const msg = o.format === 'cef' ? formatCef(a, o.version) : `${a.rule_name}: ${a.summary}`.toWellFormed();
  return `<${pri}>1 ${a.first_seen} ${headerToken(a.host, 255)} daemoneye - ${headerToken(a.rule_id, 32)} ${sd} ${msg}`;
}

const MARK = ' [truncated]';

/** The longest prefix of `s` that fits in `maxBytes` of UTF-8, cut at a character boundary. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/** Fields given up first when a message is too long: the bulky, least structured ones. */
const SHRINKABLE = ['command_line', 'summary', 'executable_path', 'process_name', 'rule_name'] as const;

/**
 * The message for one alert. Over maxBytes (datagram transports), the command line is cut first,
 * then the summary and the other free-text fields, each marked " [truncated]", so the header and
 * alert_uuid always survive; only as a last resort is the message's tail cut.
 */
export function formatRfc5424(a: Alert, o: Rfc5424Options): string {
  let msg = build(a, o);
  const max = o.maxBytes;
  if (max === undefined) return msg;
  let cut: Alert = a;
  for (const field of SHRINKABLE) {
    for (let round = 0; round < 3; round++) {
      const over = Buffer.byteLength(msg) - max;
      if (over <= 0) return msg;
      const v = cut[field];
      if (v === null || v === '') break;
      cut = { ...cut, [field]: truncateUtf8(v, Buffer.byteLength(v) - over - MARK.length) + MARK };
      msg = build(cut, o);
    }
  }
  return Buffer.byteLength(msg) <= max ? msg : truncateUtf8(msg, max);
}
