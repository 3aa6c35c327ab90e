// The default de-duplication key is host + pid + start_time (the rule id is its own column): the same
// process matching the same rule is one alert however many scans see it, while a recycled pid (new
// start time) is a new alert. A rule can return its own `dedup_key` column instead.
import { createHash } from 'node:crypto';

export function dedupKey(host: string, row: Readonly<Record<string, unknown>>): string {
  const own = row['dedup_key'];
  if (own !== undefined && own !== null) return `${host}|${String(own)}`;
  const pid = row['pid'];
  if (typeof pid === 'number') return `${host}|${pid}|${String(row['start_time'] ?? '')}`;
  // No process identity: the row's content is the finding.
  const digest = createHash('sha256').update(stableJson(row)).digest('hex').slice(0, 32);
  return `${host}|row:${digest}`;
}

function stableJson(row: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]));
}
