// Flow records from XDP/TC flow accounting (flow_accounting: xdp). The kernel counts every packet
// per direction in an LRU map and the collector forwards cumulative counters about once a second;
// this table pairs the two directions, turns cumulative counters into NetFlow-like records (idle and
// active timeouts, bounded memory), and lets the packet decoder's view of the same flow (DNS, TLS,
// HTTP, SSH recognised in the content-filtered packets) name its application and server.
import type { FlowCounter } from '../../sources/pcap/flow-records.ts';
import { normalizeAddress } from '../attribution/endpoint-key.ts';
import { IPPROTO } from '../decode/packet.ts';
import { protocolName } from '../decode/packet.ts';
import type { FlowRecord } from '../records.ts';
import { addressWords, communityId } from '../community-id.ts';
import type { FlowTableOptions } from './flow-table.ts';

interface Direction {
  packets: number;
  bytes: number;
  flags: number;
  first: number;
  last: number;
}

interface XdpFlow {
  readonly key: string;
  readonly protocol: number;
  readonly ipVersion: number;
  readonly vlan: number;
  readonly client: [string, number];
  readonly server: [string, number];
  toServer: Direction;
  toClient: Direction;
  /** Counters already exported (active timeout), subtracted from the cumulative ones. */
  sentServer: [number, number];
  sentClient: [number, number];
  intervalStart: number;
  lastChange: number;
  exported: boolean;
}

/** What the packet decoder learned about a flow, looked up by its endpoints. */
export interface FlowContent {
  readonly application: string | null;
  readonly serverName: string | null;
  readonly sshClientBanner: string | null;
  readonly sshServerBanner: string | null;
}

const ETHERNET_HEADER = 14;
const emptyDirection = (): Direction => ({ packets: 0, bytes: 0, flags: 0, first: 0, last: 0 });

/** Which end is the client: the one on the ephemeral-looking port (no packet order survives in the counters). */
function clientIsSource(c: FlowCounter): boolean {
  if ((c.srcPort < 1024) !== (c.dstPort < 1024)) return c.srcPort >= 1024;
  return c.srcPort > c.dstPort;
}

export class XdpFlowTable {
  readonly #flows = new Map<string, XdpFlow>();
  readonly #options: Pick<FlowTableOptions, 'idleTimeoutMs' | 'activeTimeoutMs' | 'maxFlows'>;
  readonly #export: (record: FlowRecord) => void;
  readonly #content: (key: string) => FlowContent | undefined;
  evictions = 0;

  constructor(options: Pick<FlowTableOptions, 'idleTimeoutMs' | 'activeTimeoutMs' | 'maxFlows'>, onExport: (record: FlowRecord) => void,
    content: (key: string) => FlowContent | undefined = () => undefined) {
    this.#options = options;
    this.#export = onExport;
    this.#content = content;
  }

  get size(): number {
    return this.#flows.size;
  }

  /** The key both this table and the packet path use for a flow: protocol, client, server. */
  static key(protocol: string, clientAddress: string, clientPort: number, serverAddress: string, serverPort: number): string {
    return `${protocol}|${normalizeAddress(clientAddress)}|${clientPort}|${normalizeAddress(serverAddress)}|${serverPort}`;
  }

  /** Applies one snapshot of cumulative per-direction counters, then exports what timed out. */
  update(counters: readonly FlowCounter[], nowMs: number): void {
    for (const c of counters) {
      const srcIsClient = clientIsSource(c);
      const client: [string, number] = srcIsClient ? [normalizeAddress(c.srcAddr), c.srcPort] : [normalizeAddress(c.dstAddr), c.dstPort];
      const server: [string, number] = srcIsClient ? [normalizeAddress(c.dstAddr), c.dstPort] : [normalizeAddress(c.srcAddr), c.srcPort];
      const key = XdpFlowTable.key(protocolName(c.protocol), client[0], client[1], server[0], server[1]);
      let f = this.#flows.get(key);
      if (f === undefined) {
        if (this.#flows.size >= this.#options.maxFlows) this.#evictOldest();
        f = { key, protocol: c.protocol, ipVersion: c.family, vlan: c.vlan, client, server, toServer: emptyDirection(), toClient: emptyDirection(),
          sentServer: [0, 0], sentClient: [0, 0], intervalStart: c.firstSeenMs, lastChange: nowMs, exported: false };
        this.#flows.set(key, f);
      }
      const d = srcIsClient ? f.toServer : f.toClient;
      if (c.packets !== d.packets) f.lastChange = nowMs;
      // Layer-2 bytes from XDP; the table stores IP bytes like the packet path.
      d.packets = c.packets;
      d.bytes = Math.max(0, c.bytes - ETHERNET_HEADER * c.packets);
      d.flags = c.tcpFlags;
      d.first = c.firstSeenMs;
      d.last = c.lastSeenMs;
    }
    for (const f of this.#flows.values()) {
      const last = Math.max(f.toServer.last, f.toClient.last);
      const closed = f.protocol === IPPROTO.TCP && ((f.toServer.flags | f.toClient.flags) & 0x04) !== 0;
      if (nowMs - f.lastChange >= this.#options.idleTimeoutMs || (closed && nowMs - last >= 2_000)) this.#end(f, closed ? 'rst' : 'idle');
      else if (nowMs - f.intervalStart >= this.#options.activeTimeoutMs) this.#emit(f, 'active', nowMs);
    }
  }

  flush(): void {
    for (const f of [...this.#flows.values()]) this.#end(f, 'end_of_capture');
  }

  #evictOldest(): void {
    let oldest: XdpFlow | null = null;
    for (const f of this.#flows.values()) if (oldest === null || f.lastChange < oldest.lastChange) oldest = f;
    if (oldest !== null) {
      this.evictions++;
      this.#end(oldest, 'evicted');
    }
  }

  #end(f: XdpFlow, reason: string): void {
    this.#flows.delete(f.key);
    this.#emit(f, reason, Math.max(f.toServer.last, f.toClient.last));
  }

  #emit(f: XdpFlow, reason: string, nowMs: number): void {
    const ps = f.toServer.packets - f.sentServer[0], bs = f.toServer.bytes - f.sentServer[1];
    const pc = f.toClient.packets - f.sentClient[0], bc = f.toClient.bytes - f.sentClient[1];
    f.sentServer = [f.toServer.packets, f.toServer.bytes];
    f.sentClient = [f.toClient.packets, f.toClient.bytes];
    // The first record starts at the first packet; later ones where the previous interval ended.
    const firsts = [f.toServer.first, f.toClient.first].filter((t) => t > 0);
    const start = f.exported || firsts.length === 0 ? f.intervalStart : Math.min(...firsts);
    f.intervalStart = nowMs;
    f.exported = true;
    if (ps + pc === 0) return;
    const content = this.#content(f.key);
    this.#export({
      protocol: protocolName(f.protocol), ipVersion: f.ipVersion, clientAddress: f.client[0], clientPort: f.client[1],
      serverAddress: f.server[0], serverPort: f.server[1],
      communityId: communityId(f.ipVersion, f.protocol, addressWords(f.client[0]), f.client[1], addressWords(f.server[0]), f.server[1]),
      startTime: Math.floor(start), endTime: Math.floor(Math.max(f.toServer.last, f.toClient.last)),
      packetsToServer: ps, bytesToServer: bs, packetsToClient: pc, bytesToClient: bc,
      tcpFlagsToServer: f.toServer.flags, tcpFlagsToClient: f.toClient.flags, endReason: reason, vlan: f.vlan > 0 ? f.vlan : null,
      application: content?.application ?? null, serverName: content?.serverName ?? null,
      sshClientBanner: content?.sshClientBanner ?? null, sshServerBanner: content?.sshServerBanner ?? null,
    });
  }
}
