// What the analyzer produces: one record type per table (docs/schema/network.md). Addresses are
// text, times epoch ms. `client`/`server` follow the flow's orientation (see flows/flow.ts).

export interface Endpoints {
  readonly protocol: string;
  readonly ipVersion: number;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Community ID v1 (corelight/community-id-spec): the same flow hash Zeek and Suricata print. */
  readonly communityId: string | null;
}

export interface FlowRecord extends Endpoints {
  readonly startTime: number;
  readonly endTime: number;
  readonly packetsToServer: number;
  readonly bytesToServer: number;
  readonly packetsToClient: number;
  readonly bytesToClient: number;
  readonly tcpFlagsToServer: number;
  readonly tcpFlagsToClient: number;
  readonly endReason: string;
  readonly vlan: number | null;
  readonly application: string | null;
  readonly serverName: string | null;
  readonly sshClientBanner: string | null;
  readonly sshServerBanner: string | null;
}

export interface DnsRecord extends Endpoints {
  readonly time: number;
  readonly transactionId: number;
  readonly queryName: string;
  readonly queryType: string;
  /** NULL when no response was seen within the pairing window. */
  readonly responseCode: string | null;
  readonly answers: readonly { name: string; type: string; ttl: number; data: string }[] | null;
  readonly answerCount: number | null;
  readonly latencyMs: number | null;
}

export interface TlsRecord extends Endpoints {
  readonly time: number;
  readonly serverName: string | null;
  readonly alpnOffered: readonly string[];
  readonly clientVersion: string;
  readonly ja3: string;
  readonly ja3Hash: string;
  readonly ja4: string;
  readonly cipherCount: number;
  readonly serverVersion: string | null;
  readonly serverCipher: number | null;
  readonly serverAlpn: string | null;
  readonly ja3sHash: string | null;
}

export interface HttpRecord extends Endpoints {
  readonly time: number;
  readonly method: string;
  readonly host: string | null;
  /** Path only: the query string is dropped unless payload capture is enabled (docs/network.md). */
  readonly path: string;
  readonly hasQuery: boolean;
  readonly version: string;
  readonly userAgent: string | null;
  readonly status: number | null;
}

export interface AnalyzerOutput {
  flows: FlowRecord[];
  dns: DnsRecord[];
  tls: TlsRecord[];
  http: HttpRecord[];
}

export function emptyOutput(): AnalyzerOutput {
  return { flows: [], dns: [], tls: [], http: [] };
}
