// How an alert reads on a terminal: one line an analyst can scan, severity first, then what and where.
import type { Alert } from '../alerts/alert.ts';

const COLOURS: Record<Alert['severity'], string> = {
  low: '\x1b[36m',
  medium: '\x1b[33m',
  high: '\x1b[31m',
  critical: '\x1b[1;37;41m',
};
const RESET = '\x1b[0m';

export function formatAlertHuman(a: Alert, colour: boolean): string {
  const sev = a.severity.toUpperCase().padEnd(8);
  const tag = colour ? `${COLOURS[a.severity]}${sev}${RESET}` : sev;
  const proc = a.pid === null ? '' : ` [pid ${a.pid}${a.executable_path ? ` ${a.executable_path}` : ''}]`;
  return `${a.first_seen} ${tag} ${a.rule_id} ${a.summary}${proc} (${a.attack_ids.join(', ')})`;
}

/** One JSON object per line, keys in a fixed order, for SIEMs and `jq`. */
export function formatAlertJson(a: Alert): string {
  return JSON.stringify(a);
}
