// Migrations for the network tables: versions 10-19 are reserved for them (see ../migrations.ts).
// Rows come from decoded packets (src/network/analyzer.ts) written by src/network/store-writer.ts;
// docs/schema/network.md documents every column. Payloads are never stored: only the metadata here.
import type { Migration } from '../migrations.ts';

/** Columns every network table shares: the flow's endpoints and who on this host owned it. */
const ENDPOINTS = `
  protocol        TEXT    NOT NULL,
  ip_version      INTEGER NOT NULL,
  client_address  TEXT    NOT NULL,
  client_port     INTEGER NOT NULL,
  server_address  TEXT    NOT NULL,
  server_port     INTEGER NOT NULL,
  community_id    TEXT,
  pid             INTEGER,
  process_name    TEXT,
  attribution     TEXT    NOT NULL CHECK (attribution IN ('kernel', 'procfs', 'none')),
  capture_source  TEXT    NOT NULL`;

export const NETWORK_MIGRATIONS: readonly Migration[] = [
  {
    version: 10,
    description: 'network flows, DNS queries, TLS handshakes and HTTP requests from packet capture; per-rule cursors into them',
    sql: `
CREATE TABLE network_flows (
  id                 INTEGER PRIMARY KEY,
  start_time         INTEGER NOT NULL,
  end_time           INTEGER NOT NULL,${ENDPOINTS},
  packets_to_server  INTEGER NOT NULL,
  bytes_to_server    INTEGER NOT NULL,
  packets_to_client  INTEGER NOT NULL,
  bytes_to_client    INTEGER NOT NULL,
  tcp_flags_to_server INTEGER NOT NULL,
  tcp_flags_to_client INTEGER NOT NULL,
  end_reason         TEXT    NOT NULL,
  vlan               INTEGER,
  application        TEXT,
  server_name        TEXT,
  ssh_client_banner  TEXT,
  ssh_server_banner  TEXT
);
CREATE INDEX network_flows_start ON network_flows (start_time);
CREATE INDEX network_flows_server ON network_flows (server_address, server_port);

CREATE TABLE dns_queries (
  id                 INTEGER PRIMARY KEY,
  time               INTEGER NOT NULL,${ENDPOINTS},
  transaction_id     INTEGER NOT NULL,
  query_name         TEXT    NOT NULL,
  query_type         TEXT    NOT NULL,
  response_code      TEXT,
  answers            TEXT,
  answer_count       INTEGER,
  latency_ms         REAL,
  subdomain          TEXT    NOT NULL,
  subdomain_length   INTEGER NOT NULL,
  subdomain_entropy  REAL    NOT NULL
);
CREATE INDEX dns_queries_time ON dns_queries (time);
CREATE INDEX dns_queries_name ON dns_queries (query_name);

CREATE TABLE tls_handshakes (
  id                 INTEGER PRIMARY KEY,
  time               INTEGER NOT NULL,${ENDPOINTS},
  server_name        TEXT,
  alpn_offered       TEXT    NOT NULL,
  client_version     TEXT    NOT NULL,
  ja3                TEXT    NOT NULL,
  ja3_hash           TEXT    NOT NULL,
  ja4                TEXT    NOT NULL,
  cipher_count       INTEGER NOT NULL,
  server_version     TEXT,
  server_cipher      INTEGER,
  server_alpn        TEXT,
  ja3s_hash          TEXT
);
CREATE INDEX tls_handshakes_time ON tls_handshakes (time);

CREATE TABLE http_requests (
  id                 INTEGER PRIMARY KEY,
  time               INTEGER NOT NULL,${ENDPOINTS},
  method             TEXT    NOT NULL,
  host               TEXT,
  path               TEXT    NOT NULL,
  has_query          INTEGER NOT NULL,
  version            TEXT    NOT NULL,
  user_agent         TEXT,
  status             INTEGER
);
CREATE INDEX http_requests_time ON http_requests (time);

ALTER TABLE rules ADD COLUMN last_flow_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN last_dns_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN last_tls_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN last_http_id INTEGER NOT NULL DEFAULT 0;
`,
  },
];
