// The bidirectional flow table. A hash of the 5-tuple (symmetric, so both directions land in one
// bucket) indexes flows chained on collision; flows also sit on an idle-ordered list so the idle
// timeout and the memory bound evict the least recently seen flow in O(1). Closed TCP flows (both
// FINs, or a RST) move to a second list and are exported after a short linger, which swallows the
// last ACKs instead of opening one-packet flows for them.
import { IPPROTO, TCP_FLAG, type DecodedPacket } from '../decode/packet.ts';
import { newFlow, type Flow, type FlowEndReason } from './flow.ts';

export interface FlowTableOptions {
  /** A flow quiet this long is exported and forgotten (NetFlow inactive timeout). */
  readonly idleTimeoutMs: number;
  /** A long flow is exported every this often, counters restarting (NetFlow active timeout). */
  readonly activeTimeoutMs: number;
  /** At most this many flows in memory; beyond it the least recently seen is exported early. */
  readonly maxFlows: number;
  /** Payload segments per direction looked at for DNS/TLS/HTTP/SSH before a flow counts as opaque. */
  readonly inspectSegments: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = { idleTimeoutMs: 60_000, activeTimeoutMs: 300_000, maxFlows: 200_000, inspectSegments: 8 };

const CLOSE_LINGER_MS = 2_000;
const SWEEP_EVERY_MS = 1_000;

export interface FlowCounters {
  flowsCreated: number;
  flowsExported: number;
  evictions: number;
  active: number;
}

/** Ports below this on one side only mark that side as the server when no SYN was seen. */
const EPHEMERAL_FLOOR = 1024;

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) | 0;
}

export class FlowTable {
  readonly #options: FlowTableOptions;
  readonly #buckets = new Map<number, Flow>();
  readonly #export: (flow: Flow, reason: FlowEndReason) => void;
  #idleHead: Flow | null = null;
  #idleTail: Flow | null = null;
  #closeHead: Flow | null = null;
  #closeTail: Flow | null = null;
  #lastSweepMs = 0;
  #lastActiveSweepMs = 0;
  /** Direction of the packet last passed to `track`: true when it went client → server. */
  toServer = true;
  readonly counters: FlowCounters = { flowsCreated: 0, flowsExported: 0, evictions: 0, active: 0 };

  readonly #onCreate: ((flow: Flow) => void) | null;

  constructor(options: Partial<FlowTableOptions>, onExport: (flow: Flow, reason: FlowEndReason) => void, onCreate?: (flow: Flow) => void) {
    this.#options = { ...DEFAULT_FLOW_OPTIONS, ...options };
    this.#export = onExport;
    this.#onCreate = onCreate ?? null;
  }

  /** Finds or creates the flow of an IP packet (not a pending fragment) and counts it. */
  track(p: DecodedPacket, nowMs: number): Flow {
    if (nowMs - this.#lastSweepMs >= SWEEP_EVERY_MS) this.sweep(nowMs);
    const ha = mix(mix(mix(mix(0x12345, p.src0), p.src1), p.src2 ^ p.src3), p.srcPort);
    const hb = mix(mix(mix(mix(0x12345, p.dst0), p.dst1), p.dst2 ^ p.dst3), p.dstPort);
    const hash = mix(ha ^ hb, (p.protocol << 16) ^ p.vlan);
    let f = this.#buckets.get(hash) ?? null;
    let toServer = true;
    for (; f !== null; f = f.chain) {
      if (f.protocol !== p.protocol || f.vlan !== p.vlan) continue;
      if (f.c3 === p.src3 && f.cPort === p.srcPort && f.s3 === p.dst3 && f.sPort === p.dstPort
        && f.c0 === p.src0 && f.c1 === p.src1 && f.c2 === p.src2 && f.s0 === p.dst0 && f.s1 === p.dst1 && f.s2 === p.dst2) {
        toServer = true;
        break;
      }
      if (f.c3 === p.dst3 && f.cPort === p.dstPort && f.s3 === p.src3 && f.sPort === p.srcPort
        && f.c0 === p.dst0 && f.c1 === p.dst1 && f.c2 === p.dst2 && f.s0 === p.src0 && f.s1 === p.src1 && f.s2 === p.src2) {
        toServer = false;
        break;
      }
    }
    if (f === null) {
      f = this.#create(p, hash, nowMs);
      toServer = f.c3 === p.src3 && f.cPort === p.srcPort && f.c0 === p.src0 && f.c1 === p.src1 && f.c2 === p.src2;
    } else if (!f.closing) {
      this.#touch(f);
    }
    f.lastMs = nowMs;
    const bytes = p.ipLength;
    if (toServer) {
      f.packetsToServer++;
      f.bytesToServer += bytes;
      f.flagsToServer |= p.tcpFlags;
    } else {
      f.packetsToClient++;
      f.bytesToClient += bytes;
      f.flagsToClient |= p.tcpFlags;
    }
    if (p.protocol === IPPROTO.TCP && !f.closing) {
      if ((p.tcpFlags & TCP_FLAG.RST) !== 0) this.#close(f, nowMs);
      else if ((p.tcpFlags & TCP_FLAG.FIN) !== 0) {
        if (toServer) f.finToServer = true;
        else f.finToClient = true;
        if (f.finToServer && f.finToClient) this.#close(f, nowMs);
      }
    }
    this.toServer = toServer;
    return f;
  }

  /** Exports flows past their timeouts; `track` calls it as packet time advances. */
  sweep(nowMs: number): void {
    this.#lastSweepMs = nowMs;
    while (this.#closeHead !== null && nowMs - this.#closeHead.closedAtMs >= CLOSE_LINGER_MS) {
      const f = this.#closeHead;
      this.#end(f, (f.flagsToServer | f.flagsToClient) & TCP_FLAG.RST ? 'rst' : 'fin');
    }
    const idle = this.#options.idleTimeoutMs;
    while (this.#idleHead !== null && nowMs - this.#idleHead.lastMs >= idle) this.#end(this.#idleHead, 'idle');
    if (nowMs - this.#lastActiveSweepMs >= Math.min(this.#options.activeTimeoutMs, 30_000)) {
      this.#lastActiveSweepMs = nowMs;
      const active = this.#options.activeTimeoutMs;
      for (let f = this.#idleHead; f !== null; f = f.next) {
        if (nowMs - f.intervalStartMs < active) continue;
        // Export the interval and keep tracking: IPFIX's active timeout semantics.
        this.#export(f, 'active');
        this.counters.flowsExported++;
        f.intervalStartMs = nowMs;
        f.packetsToServer = 0; f.bytesToServer = 0; f.packetsToClient = 0; f.bytesToClient = 0;
      }
    }
  }

  /** Exports every flow (end of a file, or shutdown). */
  flush(reason: FlowEndReason = 'end_of_capture'): void {
    while (this.#closeHead !== null) this.#end(this.#closeHead, (this.#closeHead.flagsToServer | this.#closeHead.flagsToClient) & TCP_FLAG.RST ? 'rst' : 'fin');
    while (this.#idleHead !== null) this.#end(this.#idleHead, reason);
  }

  get size(): number {
    return this.counters.active;
  }

  #create(p: DecodedPacket, hash: number, nowMs: number): Flow {
    if (this.counters.active >= this.#options.maxFlows) {
      const victim = this.#idleHead ?? this.#closeHead;
      if (victim !== null) {
        this.counters.evictions++;
        this.#end(victim, 'evicted');
      }
    }
    const f = newFlow();
    // Who is the client: the SYN sender; else the side on the ephemeral port; else the first sender.
    let senderIsClient = true;
    if (p.protocol === IPPROTO.TCP && (p.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === TCP_FLAG.SYN) senderIsClient = true;
    else if (p.protocol === IPPROTO.TCP && (p.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK)) senderIsClient = false;
    else if (p.srcPort < EPHEMERAL_FLOOR && p.dstPort >= EPHEMERAL_FLOOR) senderIsClient = false;
    if (senderIsClient) {
      f.c0 = p.src0; f.c1 = p.src1; f.c2 = p.src2; f.c3 = p.src3; f.cPort = p.srcPort;
      f.s0 = p.dst0; f.s1 = p.dst1; f.s2 = p.dst2; f.s3 = p.dst3; f.sPort = p.dstPort;
    } else {
      f.c0 = p.dst0; f.c1 = p.dst1; f.c2 = p.dst2; f.c3 = p.dst3; f.cPort = p.dstPort;
      f.s0 = p.src0; f.s1 = p.src1; f.s2 = p.src2; f.s3 = p.src3; f.sPort = p.srcPort;
    }
    f.hash = hash;
    f.protocol = p.protocol;
    f.ipVersion = p.ipVersion;
    f.vlan = p.vlan;
    f.firstMs = nowMs;
    f.intervalStartMs = nowMs;
    f.inspectToServer = this.#options.inspectSegments;
    f.inspectToClient = this.#options.inspectSegments;
    f.chain = this.#buckets.get(hash) ?? null;
    this.#buckets.set(hash, f);
    this.#append(f);
    this.counters.flowsCreated++;
    this.counters.active++;
    this.#onCreate?.(f);
    return f;
  }

  #close(f: Flow, nowMs: number): void {
    this.#unlink(f);
    f.closing = true;
    f.closedAtMs = nowMs;
    f.prev = this.#closeTail;
    f.next = null;
    if (this.#closeTail !== null) this.#closeTail.next = f;
    else this.#closeHead = f;
    this.#closeTail = f;
  }

  #end(f: Flow, reason: FlowEndReason): void {
    this.#unlink(f);
    let head = this.#buckets.get(f.hash) ?? null;
    if (head === f) {
      if (f.chain === null) this.#buckets.delete(f.hash);
      else this.#buckets.set(f.hash, f.chain);
    } else {
      for (; head !== null && head.chain !== f; head = head.chain);
      if (head !== null) head.chain = f.chain;
    }
    this.counters.active--;
    this.counters.flowsExported++;
    this.#export(f, reason);
  }

  #append(f: Flow): void {
    f.prev = this.#idleTail;
    f.next = null;
    if (this.#idleTail !== null) this.#idleTail.next = f;
    else this.#idleHead = f;
    this.#idleTail = f;
  }

  #touch(f: Flow): void {
    if (this.#idleTail === f) return;
    this.#unlink(f);
    this.#append(f);
  }

  #unlink(f: Flow): void {
    const closing = f.closing;
    if (f.prev !== null) f.prev.next = f.next;
    else if (closing) this.#closeHead = f.next;
    else this.#idleHead = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else if (closing) this.#closeTail = f.prev;
    else this.#idleTail = f.prev;
    f.prev = null;
    f.next = null;
  }
}
