// One bidirectional flow: "client" is the side that sent the SYN (TCP) or, without a SYN, the side
// on the higher, ephemeral-looking port; "server" the other. Counters are per direction, as IPFIX
// keeps them (octetDeltaCount / reverseOctetDeltaCount). Fields are plain numbers so a flow update
// is a few property writes.
import type { ClientHello, ServerHello } from '../decode/tls.ts';
import type { HttpRequest } from '../decode/http.ts';
import type { Endpoints } from '../records.ts';

export type FlowEndReason = 'idle' | 'active' | 'fin' | 'rst' | 'evicted' | 'end_of_capture';

export interface PendingHttp {
  readonly timeMs: number;
  readonly request: HttpRequest;
}

export interface Flow {
  hash: number;
  /** Collision chain in the table's bucket. */
  chain: Flow | null;
  /** Idle-order list (least recently seen first). */
  prev: Flow | null;
  next: Flow | null;
  closing: boolean;
  closedAtMs: number;
  protocol: number;
  ipVersion: number;
  vlan: number;
  c0: number; c1: number; c2: number; c3: number; cPort: number;
  s0: number; s1: number; s2: number; s3: number; sPort: number;
  firstMs: number;
  lastMs: number;
  /** Start of the current export interval (the active timeout restarts it). */
  intervalStartMs: number;
  packetsToServer: number;
  bytesToServer: number;
  packetsToClient: number;
  bytesToClient: number;
  flagsToServer: number;
  flagsToClient: number;
  finToServer: boolean;
  finToClient: boolean;
  /** Payload segments still inspected per direction before giving up on classification. */
  inspectToServer: number;
  inspectToClient: number;
  application: string | null;
  serverName: string | null;
  sshClient: string | null;
  sshServer: string | null;
  clientHello: ClientHello | null;
  clientHelloMs: number;
  serverHello: ServerHello | null;
  tlsEmitted: boolean;
  /** A ClientHello that spans segments is gathered here, bounded (see analyzer). */
  tlsBuffer: Buffer | null;
  tlsBuffered: number;
  tlsNextSeq: number;
  httpPending: PendingHttp[] | null;
  httpRequests: number;
  /** Text endpoints and Community ID, made once per flow when its first record is written. */
  endpoints: Endpoints | null;
}

export function newFlow(): Flow {
  return {
    hash: 0, chain: null, prev: null, next: null, closing: false, closedAtMs: 0, protocol: 0, ipVersion: 0, vlan: -1,
    c0: 0, c1: 0, c2: 0, c3: 0, cPort: 0, s0: 0, s1: 0, s2: 0, s3: 0, sPort: 0,
    firstMs: 0, lastMs: 0, intervalStartMs: 0, packetsToServer: 0, bytesToServer: 0, packetsToClient: 0, bytesToClient: 0,
    flagsToServer: 0, flagsToClient: 0, finToServer: false, finToClient: false, inspectToServer: 0, inspectToClient: 0,
    application: null, serverName: null, sshClient: null, sshServer: null, clientHello: null, clientHelloMs: 0,
    serverHello: null, tlsEmitted: false, tlsBuffer: null, tlsBuffered: 0, tlsNextSeq: 0, httpPending: null, httpRequests: 0,
    endpoints: null,
  };
}
