// Writes one drain of the analyzer (flows, DNS, TLS, HTTP records) in one transaction, each row
// with the process that owned it. One commit per batch keeps the per-row cost low, as for kernel
// events (src/store/kernel-event-writer.ts).
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/open-store.ts';
import type { Attribution, Attributor } from './attribution/attributor.ts';
import { shannonEntropy, subdomainOf } from './dns-features.ts';
import type { AnalyzerOutput, Endpoints } from './records.ts';

const ENDPOINT_COLUMNS = 'protocol, ip_version, client_address, client_port, server_address, server_port, community_id, pid, process_name, attribution, capture_source';

export interface StoredCounts {
  flows: number;
  dns: number;
  tls: number;
  http: number;
  attributed: number;
}

export class NetworkStoreWriter {
  readonly #flow: Statement;
  readonly #dns: Statement;
  readonly #tls: Statement;
  readonly #http: Statement;
  readonly #write: (out: AnalyzerOutput, source: string, attributor: Attributor) => StoredCounts;

  constructor(db: Db) {
    const marks = (n: number) => Array(n).fill('?').join(', ');
    this.#flow = db.prepare(`INSERT INTO network_flows (start_time, end_time, ${ENDPOINT_COLUMNS}, packets_to_server, bytes_to_server,
      packets_to_client, bytes_to_client, tcp_flags_to_server, tcp_flags_to_client, end_reason, vlan, application, server_name,
      ssh_client_banner, ssh_server_banner) VALUES (${marks(2 + 11 + 12)})`);
    this.#dns = db.prepare(`INSERT INTO dns_queries (time, ${ENDPOINT_COLUMNS}, transaction_id, query_name, query_type, response_code,
      answers, answer_count, latency_ms, subdomain, subdomain_length, subdomain_entropy) VALUES (${marks(1 + 11 + 10)})`);
    this.#tls = db.prepare(`INSERT INTO tls_handshakes (time, ${ENDPOINT_COLUMNS}, server_name, alpn_offered, client_version, ja3, ja3_hash,
      ja4, cipher_count, server_version, server_cipher, server_alpn, ja3s_hash) VALUES (${marks(1 + 11 + 11)})`);
    this.#http = db.prepare(`INSERT INTO http_requests (time, ${ENDPOINT_COLUMNS}, method, host, path, has_query, version, user_agent, status)
      VALUES (${marks(1 + 11 + 7)})`);
    this.#write = db.transaction((out: AnalyzerOutput, source: string, attributor: Attributor) => {
      const counts: StoredCounts = { flows: 0, dns: 0, tls: 0, http: 0, attributed: 0 };
      const ep = (e: Endpoints, time: number): unknown[] => {
        const a: Attribution = attributor.attribute(e, time);
        if (a.pid !== null) counts.attributed++;
        return [e.protocol, e.ipVersion, e.clientAddress, e.clientPort, e.serverAddress, e.serverPort, e.communityId,
          a.pid, a.processName, a.method, source];
      };
      for (const f of out.flows) {
        this.#flow.run(f.startTime, f.endTime, ...ep(f, f.startTime), f.packetsToServer, f.bytesToServer, f.packetsToClient, f.bytesToClient,
          f.tcpFlagsToServer, f.tcpFlagsToClient, f.endReason, f.vlan, f.application, f.serverName, f.sshClientBanner, f.sshServerBanner);
        counts.flows++;
      }
      for (const d of out.dns) {
        const sub = subdomainOf(d.queryName);
        this.#dns.run(d.time, ...ep(d, d.time), d.transactionId, d.queryName, d.queryType, d.responseCode,
          d.answers === null ? null : JSON.stringify(d.answers), d.answerCount, d.latencyMs, sub, sub.length, shannonEntropy(sub));
        counts.dns++;
      }
      for (const t of out.tls) {
        this.#tls.run(t.time, ...ep(t, t.time), t.serverName, JSON.stringify(t.alpnOffered), t.clientVersion, t.ja3, t.ja3Hash, t.ja4,
          t.cipherCount, t.serverVersion, t.serverCipher, t.serverAlpn, t.ja3sHash);
        counts.tls++;
      }
      for (const h of out.http) {
        this.#http.run(h.time, ...ep(h, h.time), h.method, h.host, h.path, h.hasQuery ? 1 : 0, h.version, h.userAgent, h.status);
        counts.http++;
      }
      return counts;
    });
  }

  write(out: AnalyzerOutput, source: string, attributor: Attributor): StoredCounts {
    return this.#write(out, source, attributor);
  }
}
