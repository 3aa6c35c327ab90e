// Sharing alerts of the other detectors (SQL rules, anomaly models) as STIX 2.1 bundles: the
// process (and its executable) as cyber-observables, an observed-data object over them, the rule as
// an indicator of pattern_type `daemoneye-rule` (pattern: the rule id; ATT&CK ids as external
// references), and a sighting of that indicator. Alerts raised by STIX indicator matches are left
// out: their sighting (intel_sightings) is already shared.
//
// Ids are UUIDv5 over stable content, so posting an alert again (it re-occurred, or the last post
// was not confirmed) updates the same objects instead of creating new ones. A rule's indicator
// changes version with the rule: its `modified` is 2020-01-01 plus rule_version seconds, a
// deterministic time, since the store does not keep when a rule version was authored.

import { basename } from 'node:path';
import type { Db } from '../../store/open-store.ts';
import type { AlertRow } from '../../alerts/alert.ts';
import type { TaxiiClient } from '../taxii/taxii-client.ts';
import { canonical, postInBatches, uuidV5, SCO_NAMESPACE, type ShareOptions, type ShareReport, type ShareTarget } from './share-engine.ts';
import { MAX_PER_ROUND } from './share-sightings.ts';
import { INTEL_RULE_ID } from '../match/intel-detector.ts';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Namespace of the ids DaemonEye derives for its own SDOs (rules, sightings, observed-data). */
const DAEMONEYE_NAMESPACE = '6f2b9a63-8d41-5c7e-9e0a-4d1e2c3b5a70';
const RULE_EPOCH_MS = Date.UTC(2020, 0, 1);

export async function shareAlerts(db: Db, client: TaxiiClient, target: ShareTarget, minSeverity: Severity, opts: ShareOptions = {}): Promise<ShareReport> {
  const allowed = SEVERITIES.slice(SEVERITIES.indexOf(minSeverity));
  const rows = db.prepare(`SELECT a.* FROM alerts a LEFT JOIN intel_shared_alerts s ON s.alert_uuid = a.alert_uuid
    WHERE a.severity IN (${allowed.map(() => '?').join(', ')})
      AND (s.alert_uuid IS NULL OR s.last_seen IS NULL OR a.last_seen > s.last_seen)
      AND a.rule_id != ? AND a.alert_uuid NOT IN (SELECT alert_uuid FROM intel_sightings WHERE alert_uuid IS NOT NULL)
    ORDER BY a.alert_id LIMIT ?`).all(...allowed, INTEL_RULE_ID, MAX_PER_ROUND) as AlertRow[];
  const lastSeen = new Map(rows.map((r) => [r.alert_uuid, r.last_seen]));
  const markShared = db.prepare(`INSERT INTO intel_shared_alerts (alert_uuid, last_seen, shared_at, share_error) VALUES (?, ?, ?, NULL)
    ON CONFLICT (alert_uuid) DO UPDATE SET last_seen = excluded.last_seen, shared_at = excluded.shared_at, share_error = NULL`);
  const markError = db.prepare(`INSERT INTO intel_shared_alerts (alert_uuid, share_error) VALUES (?, ?)
    ON CONFLICT (alert_uuid) DO UPDATE SET share_error = excluded.share_error`);
  return postInBatches(db, client, target, rows.map((r) => ({ key: r.alert_uuid, sightingId: alertSightingId(r.alert_uuid), build: () => alertBundle(r) })),
    { shared: (key, at) => markShared.run(key, lastSeen.get(key)!, at), error: (key, why) => markError.run(key, why) }, 'alert', opts);
}

export function alertSightingId(alertUuid: string): string {
  return `sighting--${uuidV5(DAEMONEYE_NAMESPACE, `alert:${alertUuid}`)}`;
}

function listOf(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The STIX objects for one alert. */
export function alertBundle(a: AlertRow): unknown[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const ruleTime = iso(RULE_EPOCH_MS + a.rule_version * 1000);
  const rule = {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuidV5(DAEMONEYE_NAMESPACE, `rule:${a.rule_id}`)}`,
    created: iso(RULE_EPOCH_MS), modified: ruleTime, name: a.rule_name,
    description: `DaemonEye detection rule ${a.rule_id} version ${a.rule_version}`,
    indicator_types: ['malicious-activity'], pattern_type: 'daemoneye-rule', pattern: a.rule_id, valid_from: iso(RULE_EPOCH_MS),
    ...(listOf(a.tags).length ? { labels: listOf(a.tags) } : {}),
    ...(listOf(a.attack_ids).length ? { external_references: listOf(a.attack_ids).map((id) => ({ source_name: 'mitre-attack', external_id: id })) } : {}),
  };
  const scos: (Record<string, unknown> & { id: string })[] = [];
  const sco = (content: Record<string, unknown>) => {
    const o = { ...content, spec_version: '2.1', id: `${content.type as string}--${uuidV5(SCO_NAMESPACE, canonical(content))}` };
    scos.push(o);
    return o.id;
  };
  const image = a.executable_path === null ? null : sco({ type: 'file', name: basename(a.executable_path) });
  if (a.pid !== null || a.command_line !== null) {
    sco({
      type: 'process', ...(a.pid === null ? {} : { pid: a.pid }), ...(a.command_line === null ? {} : { command_line: a.command_line }),
      ...(a.process_start === null ? {} : { created_time: iso(a.process_start) }), ...(image === null ? {} : { image_ref: image }),
      // The host keeps otherwise identical processes on two machines apart in the derived id.
      x_daemoneye_host: a.host,
    });
  }
  const odId = `observed-data--${uuidV5(DAEMONEYE_NAMESPACE, `alert-observed:${a.alert_uuid}:${a.last_seen}`)}`;
  const od = scos.length === 0 ? null : {
    type: 'observed-data', spec_version: '2.1', id: odId, created: iso(a.last_seen), modified: iso(a.last_seen),
    first_observed: iso(a.first_seen), last_observed: iso(Math.max(a.first_seen, a.last_seen)),
    number_observed: Math.max(1, Math.min(a.occurrences, 999_999_999)), object_refs: scos.map((s) => s.id),
  };
  const sighting = {
    type: 'sighting', spec_version: '2.1', id: alertSightingId(a.alert_uuid), created: iso(a.first_seen), modified: iso(Math.max(a.first_seen, a.last_seen)),
    sighting_of_ref: rule.id, first_seen: iso(a.first_seen), last_seen: iso(Math.max(a.first_seen, a.last_seen)), count: Math.max(1, a.occurrences),
    description: a.summary, ...(od === null ? {} : { observed_data_refs: [od.id] }),
    x_daemoneye_alert_uuid: a.alert_uuid, x_daemoneye_severity: a.severity, x_daemoneye_host: a.host,
  };
  return [rule, ...scos, ...(od === null ? [] : [od]), sighting];
}
