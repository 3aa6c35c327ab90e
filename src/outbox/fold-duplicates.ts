// Storm control: alerts in one batch that say the same thing (same rule, executable and command
// line; only the pid differs, as in a fork bomb of one miner) are delivered as one alert carrying
// the count and ids of the others, instead of a flood.
import type { Alert } from '../alerts/alert.ts';

export interface FoldedAlert {
  /** What the sink receives: the first alert of the group, with `duplicates` when it stands for more. */
  readonly alert: Alert;
  /** Every outbox alert id this delivery acknowledges (the representative first). */
  readonly alertIds: readonly number[];
}

export function fingerprint(a: Alert): string {
  return JSON.stringify([a.rule_id, a.executable_path, a.command_line, a.process_name]);
}

export function foldDuplicates(alerts: readonly Alert[]): FoldedAlert[] {
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const key = fingerprint(a);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [a]);
    else g.push(a);
  }
  return [...groups.values()].map((g) => {
    const first = g[0]!;
    if (g.length === 1) return { alert: first, alertIds: [first.alert_id] };
    const others = g.slice(1);
    return {
      alert: { ...first, duplicates: { count: others.length, alert_ids: others.map((a) => a.alert_id), alert_uuids: others.map((a) => a.alert_uuid) } },
      alertIds: g.map((a) => a.alert_id),
    };
  });
}
