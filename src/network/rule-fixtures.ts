// Rule fixtures for the network tables: a fixture names the few columns that matter to the rule
// and the rest get neutral values, as for the kernel tables (src/detect/sql/fixture-runner.ts).
import type { Db } from '../store/open-store.ts';
import { subdomainOf, shannonEntropy } from './dns-features.ts';

const BASE_TIME = 1_767_225_600_000; // 2026-01-01T00:00:00Z, as the other fixtures

export interface NetworkFixtureRows {
  readonly network_flows: readonly Record<string, unknown>[];
  readonly dns_queries: readonly Record<string, unknown>[];
  readonly tls_handshakes: readonly Record<string, unknown>[];
  readonly http_requests: readonly Record<string, unknown>[];
}

function endpoints(index: number): Record<string, unknown> {
  return {
    protocol: 'tcp', ip_version: 4, client_address: '10.0.0.5', client_port: 40000 + index, server_address: '198.51.100.10',
    server_port: 443, community_id: null, pid: null, process_name: null, attribution: 'none', capture_source: 'fixture',
  };
}

const DEFAULTS: Record<keyof NetworkFixtureRows, (i: number, given: Record<string, unknown>) => Record<string, unknown>> = {
  network_flows: (i) => ({
    start_time: BASE_TIME + i * 1000, end_time: BASE_TIME + i * 1000 + 500, ...endpoints(i), packets_to_server: 5, bytes_to_server: 600,
    packets_to_client: 5, bytes_to_client: 4000, tcp_flags_to_server: 0x1b, tcp_flags_to_client: 0x1b, end_reason: 'fin', vlan: null,
    application: null, server_name: null, ssh_client_banner: null, ssh_server_banner: null,
  }),
  dns_queries: (i, given) => {
    const name = (given['query_name'] as string | undefined) ?? 'www.example.com';
    const sub = subdomainOf(name);
    return {
      time: BASE_TIME + i * 1000, ...endpoints(i), protocol: 'udp', server_port: 53, transaction_id: i + 1, query_name: name,
      query_type: 'A', response_code: 'NOERROR', answers: '[]', answer_count: 0, latency_ms: 1.5,
      subdomain: sub, subdomain_length: sub.length, subdomain_entropy: shannonEntropy(sub),
    };
  },
  tls_handshakes: (i) => ({
    time: BASE_TIME + i * 1000, ...endpoints(i), server_name: 'www.example.com', alpn_offered: '["h2","http/1.1"]', client_version: 'TLS 1.3',
    ja3: '771,4865,0-10-11,29,0', ja3_hash: '00000000000000000000000000000000', ja4: 't13d011000_000000000000_000000000000',
    cipher_count: 1, server_version: 'TLS 1.3', server_cipher: 4865, server_alpn: null, ja3s_hash: null,
  }),
  http_requests: (i) => ({
    time: BASE_TIME + i * 1000, ...endpoints(i), server_port: 80, method: 'GET', host: 'www.example.com', path: '/', has_query: 0,
    version: 'HTTP/1.1', user_agent: 'Mozilla/5.0', status: 200,
  }),
};

export const NETWORK_FIXTURE_TABLES = Object.keys(DEFAULTS) as (keyof NetworkFixtureRows)[];

/** Inserts the fixture's network rows; an unknown column is an error naming the table. */
export function writeNetworkFixtures(db: Db, fixture: NetworkFixtureRows): void {
  for (const table of NETWORK_FIXTURE_TABLES) {
    const rows = fixture[table];
    if (rows.length === 0) continue;
    const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id');
    const insert = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`);
    rows.forEach((given, i) => {
      for (const k of Object.keys(given)) if (!columns.includes(k)) throw new Error(`unknown ${table} column "${k}"`);
      const row: Record<string, unknown> = { ...DEFAULTS[table](i, given), ...given };
      for (const [k, v] of Object.entries(row)) if (typeof v === 'object' && v !== null) row[k] = JSON.stringify(v);
      insert.run(row);
    });
  }
}
