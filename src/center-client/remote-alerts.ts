// `daemoneye alerts list --center URL`: the center's alerts, fetched with an enrolled identity
// (an analyst identity: DATA_DIR/identity from `daemoneye enroll` with an analyst token, or a
// center data dir's admin identity made by `center init`).
import { join } from 'node:path';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { CenterHttp } from './center-http.ts';
import { hasIdentity, loadIdentity, type Identity } from './identity.ts';

export interface RemoteAlertQuery {
  readonly since?: number | undefined;
  readonly severity?: string | undefined;
  readonly rule?: string | undefined;
  readonly status?: string | undefined;
  readonly q?: string | undefined;
  readonly host?: string | undefined;
  readonly limit: number;
}

/** The identity to call `centerUrl` with: the one enrolled with that center, else an analyst one. */
export function identityFor(dataDir: string, centerUrl: string): Identity {
  const found = [join(dataDir, 'identity'), join(dataDir, 'admin')].filter(hasIdentity).map(loadIdentity);
  const origin = new URL(centerUrl).origin;
  const pick = found.find((i) => i.role === 'analyst' && new URL(i.center_url).origin === origin) ?? found.find((i) => i.role === 'analyst');
  if (pick === undefined) {
    throw new DaemonEyeError('DE_ENROLL_MISSING', `no analyst identity in ${dataDir} (looked in identity/ and admin/)`, {
      hint: 'on the center host pass --data-dir CENTER_DIR (its admin identity); elsewhere enrol one: `daemoneye center token --role analyst` on the center, then `daemoneye enroll --center URL --token T --data-dir DIR`',
    });
  }
  return pick;
}

export async function listRemoteAlerts(dataDir: string, centerUrl: string, query: RemoteAlertQuery): Promise<Record<string, unknown>[]> {
  const identity = identityFor(dataDir, centerUrl);
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.since !== undefined) params.set('since', new Date(query.since).toISOString());
  if (query.severity !== undefined) params.set('severity', query.severity);
  if (query.rule !== undefined) params.set('rule_id', query.rule);
  if (query.status !== undefined) params.set('status', query.status);
  if (query.q !== undefined) params.set('q', query.q);
  if (query.host !== undefined) params.set('host', query.host);
  const http = CenterHttp.forIdentity(identity, centerUrl);
  try {
    return (await http.json<{ alerts: Record<string, unknown>[] }>('GET', `/api/v1/alerts?${params}`)).alerts;
  } finally {
    http.close();
  }
}
