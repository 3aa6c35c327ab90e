// ArcSight Common Event Format (CEF rev. 25 of the "Implementing ArcSight CEF" guide):
//   CEF:0|DaemonEye|DaemonEye|VERSION|rule_id|rule_name|severity|ext
// Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks (as \n, \r).
// Line breaks in header fields are escaped the same way, so one alert is always one line (the
// guide leaves them undefined there; writing them raw would split the event).
import type { Alert } from '../alerts/alert.ts';
import type { Severity } from '../detect/sql/rule.ts';

export const CEF_SEVERITY: Readonly<Record<Severity, number>> = { low: 3, medium: 5, high: 7, critical: 10 };

/** Lone UTF-16 surrogates cannot be encoded as UTF-8: they become U+FFFD, on every path out. */
const wellFormed = (s: string): string => s.toWellFormed();

export function escapeCefHeader(value: string): string {
  return wellFormed(value).replace(/[\\|\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

export function escapeCefExtension(value: string): string {
  return wellFormed(value).replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/**
 * Extension keys, in order: standard CEF keys where one fits, deviceCustom* with a label for the
 * rest (the label only when the value is there). Times are epoch milliseconds.
 */
function extensions(a: Alert): [key: string, value: string | number | null, label?: string][] {
  const ms = (iso: string) => Date.parse(iso);
  return [
    ['rt', ms(a.first_seen)],
    ['start', ms(a.first_seen)],
    ['end', ms(a.last_seen)],
    ['dvchost', a.host],
    ['externalId', a.alert_uuid],
    ['msg', a.summary],
    ['dpid', a.pid],
    ['dproc', a.process_name],
    ['filePath', a.executable_path],
    ['cs1', a.attack_ids.join(','), 'mitreAttackIds'],
    ['cs2', a.tags.join(','), 'ruleTags'],
    ['cs3', a.command_line, 'commandLine'],
    ['cn1', a.occurrences, 'occurrences'],
    ['cn2', a.rule_version, 'ruleVersion'],
  ];
}

export function formatCef(a: Alert, version: string): string {
  const header = ['CEF:0', ...['DaemonEye', 'DaemonEye', version, a.rule_id, a.rule_name].map(escapeCefHeader), String(CEF_SEVERITY[a.severity])].join('|');
  const ext = extensions(a)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v, label]) => `${label === undefined ? '' : `${k}Label=${label} `}${k}=${escapeCefExtension(String(v))}`)
    .join(' ');
  return `${header}|${ext}`;
}
