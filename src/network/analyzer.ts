// From packet batches to records: decode each packet in place, track its flow, and look into the
// first payload segments of each flow for DNS, TLS hellos, HTTP heads and SSH banners. Records
// collect in `output` until the caller drains them (the monitor writes them in one transaction).
// Everything is bounded: flows (FlowTable), fragments (FragmentReassembler), pending DNS queries,
// HTTP requests per flow, and the bytes gathered for a ClientHello that spans segments.
import { forEachPacket, type PacketBatch, type PacketRef } from '../sources/pcap/batch-format.ts';
import { newDecodeErrors, type DecodeErrors } from './decode/decode-errors.ts';
import { decodeDns, dnsRcodeName, dnsTypeName, isDnsPort, type DnsMessage } from './decode/dns.ts';
import { decodeHttpRequest, decodeHttpResponse, mayBeHttp } from './decode/http.ts';
import { DecodeResult, PacketDecoder } from './decode/packet-decoder.ts';
import { formatAddress, IPPROTO, newDecodedPacket, protocolName, type DecodedPacket } from './decode/packet.ts';
import { decodeSshBanner, mayBeSsh } from './decode/ssh.ts';
import { decodeClientHello, decodeServerHello, looksLikeTlsHandshake, tlsRecordLength, tlsVersionName } from './decode/tls.ts';
import { communityId } from './community-id.ts';
import type { Flow, FlowEndReason } from './flows/flow.ts';
import { FlowTable, type FlowTableOptions } from './flows/flow-table.ts';
import { emptyOutput, type AnalyzerOutput, type Endpoints } from './records.ts';

export interface AnalyzerOptions extends Partial<FlowTableOptions> {
  /** Keep the query string of HTTP targets (off by default: URLs carry tokens). */
  readonly keepHttpQuery?: boolean;
  /** Collect the endpoints of new flows (takeNewFlows) so live capture can attribute them while the socket is open. */
  readonly trackNewFlows?: boolean;
}

export interface AnalyzerCounters {
  packets: number;
  bytes: number;
  ipPackets: number;
  nonIpPackets: number;
  fragmentsPending: number;
  batches: number;
}

/** A DNS query waits this long for its response before it is recorded without one. */
const DNS_PAIR_MS = 5_000;
const MAX_PENDING_DNS = 10_000;
const MAX_HTTP_PENDING = 16;
/** ClientHellos with post-quantum key shares reach ~2 KB; 16 KB is the TLS record ceiling. */
const MAX_HELLO_BYTES = 16_389;

interface PendingDns {
  readonly key: string;
  readonly timeMs: number;
  readonly endpoints: Endpoints;
  readonly query: DnsMessage;
}

export class PacketAnalyzer {
  readonly errors: DecodeErrors = newDecodeErrors();
  readonly counters: AnalyzerCounters = { packets: 0, bytes: 0, ipPackets: 0, nonIpPackets: 0, fragmentsPending: 0, batches: 0 };
  readonly flows: FlowTable;
  readonly #decoder: PacketDecoder;
  readonly #packet: DecodedPacket = newDecodedPacket();
  readonly #keepQuery: boolean;
  readonly #pendingDns = new Map<string, PendingDns>();
  #newFlows: Flow[] = [];
  #output: AnalyzerOutput = emptyOutput();
  #nowMs = 0;
  #linktype = 1;
  #data: Buffer = Buffer.alloc(0);
  readonly #visit: (ref: PacketRef) => void;

  constructor(options: AnalyzerOptions = {}) {
    this.#decoder = new PacketDecoder(this.errors);
    this.#keepQuery = options.keepHttpQuery ?? false;
    this.flows = new FlowTable(options, (f, reason) => this.#exportFlow(f, reason),
      options.trackNewFlows === true ? (f) => this.#newFlows.push(f) : undefined);
    this.#visit = (ref) => this.#onPacket(ref);
  }

  /** Packet time of the newest packet seen (epoch ms). */
  get nowMs(): number {
    return this.#nowMs;
  }

  get fragmentsReassembled(): number {
    return this.#decoder.fragmentsReassembled;
  }

  ingest(batch: PacketBatch): void {
    this.#linktype = batch.linktype;
    this.#data = batch.data;
    this.counters.batches++;
    const walked = forEachPacket(batch.data, this.#visit);
    if (walked.truncated) this.errors.batch_truncated++;
  }

  /** Exports timed-out flows and DNS queries as of `nowMs` (live capture calls it when idle). */
  tick(nowMs: number): void {
    if (nowMs > this.#nowMs) this.#nowMs = nowMs;
    this.flows.sweep(this.#nowMs);
    this.#expireDns(this.#nowMs, false);
  }

  /** Ends everything still open (end of a file, shutdown). */
  flush(): void {
    this.flows.flush();
    this.#expireDns(this.#nowMs, true);
  }

  /** Endpoints of the flows created since the last call (with trackNewFlows). */
  takeNewFlows(): Endpoints[] {
    const flows = this.#newFlows;
    this.#newFlows = [];
    return flows.map((f) => ({
      protocol: protocolName(f.protocol), ipVersion: f.ipVersion, communityId: null,
      clientAddress: formatAddress(f.c0, f.c1, f.c2, f.c3), clientPort: f.cPort,
      serverAddress: formatAddress(f.s0, f.s1, f.s2, f.s3), serverPort: f.sPort,
    }));
  }

  /** The records produced since the last drain. */
  drain(): AnalyzerOutput {
    const out = this.#output;
    this.#output = emptyOutput();
    return out;
  }

  #onPacket(ref: PacketRef): void {
    const p = this.#packet;
    const c = this.counters;
    c.packets++;
    c.bytes += ref.wireLength;
    p.tsSec = ref.tsSec;
    p.tsNsec = ref.tsNsec;
    p.wireLength = ref.wireLength;
    const now = ref.tsSec * 1000 + ref.tsNsec / 1e6;
    if (now > this.#nowMs) this.#nowMs = now;
    const r = this.#decoder.decode(this.#linktype, this.#data, ref.offset, ref.capturedLength, p);
    if (r !== DecodeResult.IP) {
      if (r === DecodeResult.NOT_IP) c.nonIpPackets++;
      return;
    }
    c.ipPackets++;
    if (p.fragment) {
      c.fragmentsPending++;
      return;
    }
    const f = this.flows.track(p, now);
    if (p.payloadLength === 0) return;
    const toServer = this.flows.toServer;
    if (p.protocol === IPPROTO.UDP) {
      if (isDnsPort(p.srcPort, p.dstPort) && (toServer ? f.inspectToServer : f.inspectToClient) > 0) {
        const m = decodeDns(p.data, p.payloadOffset, p.payloadLength, this.errors);
        if (m !== null) this.#onDns(f, m, now);
      }
      return;
    }
    if (p.protocol === IPPROTO.TCP) {
      if (toServer) this.#tcpToServer(f, p, now);
      else this.#tcpToClient(f, p, now);
    }
  }

  #tcpToServer(f: Flow, p: DecodedPacket, now: number): void {
    const d = p.data, at = p.payloadOffset, len = p.payloadLength;
    if (f.tlsBuffer !== null) {
      this.#gatherHello(f, p, now);
      return;
    }
    if (f.inspectToServer <= 0) return;
    f.inspectToServer--;
    if (f.clientHello === null && looksLikeTlsHandshake(d, at, len) && d[at + 5] === 1) {
      const need = tlsRecordLength(d, at, len);
      if (need <= len || need > MAX_HELLO_BYTES || p.truncated) this.#onClientHello(f, d, at, len, now);
      else {
        f.tlsBuffer = Buffer.allocUnsafe(need);
        d.copy(f.tlsBuffer, 0, at, at + len);
        f.tlsBuffered = len;
        f.tlsNextSeq = (p.tcpSeq + len) >>> 0;
        f.clientHelloMs = now;
      }
      return;
    }
    if (mayBeHttp(d, at, len)) {
      const req = decodeHttpRequest(d, at, len, this.errors);
      if (req !== null) {
        f.application = 'http';
        f.serverName ??= req.host;
        f.httpRequests++;
        // Keep looking at this connection: keep-alive carries more requests.
        f.inspectToServer = Math.max(f.inspectToServer, 2);
        f.inspectToClient = Math.max(f.inspectToClient, 2);
        (f.httpPending ??= []).push({ timeMs: now, request: req });
        if (f.httpPending.length > MAX_HTTP_PENDING) this.#emitHttp(f, null);
        return;
      }
    }
    if (f.sshClient === null && mayBeSsh(d, at, len)) {
      const b = decodeSshBanner(d, at, len, this.errors);
      if (b !== null) {
        f.sshClient = b.raw;
        f.application = 'ssh';
      }
      return;
    }
    if (isDnsPort(p.srcPort, p.dstPort) && len >= 14) {
      const m = decodeDns(d, at + 2, Math.min(len - 2, (d[at]! << 8) | d[at + 1]!), this.errors);
      if (m !== null) this.#onDns(f, m, now);
    }
  }

  #tcpToClient(f: Flow, p: DecodedPacket, now: number): void {
    const d = p.data, at = p.payloadOffset, len = p.payloadLength;
    if (f.inspectToClient <= 0) return;
    f.inspectToClient--;
    if (f.clientHello !== null && f.serverHello === null && looksLikeTlsHandshake(d, at, len) && d[at + 5] === 2) {
      f.serverHello = decodeServerHello(d, at, len, this.errors);
      if (f.serverHello !== null) {
        this.#emitTls(f);
        f.inspectToClient = 0; // encrypted from here on
        f.inspectToServer = 0;
      }
      return;
    }
    if (f.httpPending !== null && f.httpPending.length > 0 && mayBeHttp(d, at, len)) {
      const res = decodeHttpResponse(d, at, len);
      if (res !== null) this.#emitHttp(f, res.status);
      return;
    }
    if (f.sshServer === null && mayBeSsh(d, at, len)) {
      const b = decodeSshBanner(d, at, len, this.errors);
      if (b !== null) {
        f.sshServer = b.raw;
        f.application = 'ssh';
      }
      return;
    }
    if (isDnsPort(p.srcPort, p.dstPort) && len >= 14) {
      const m = decodeDns(d, at + 2, Math.min(len - 2, (d[at]! << 8) | d[at + 1]!), this.errors);
      if (m !== null) this.#onDns(f, m, now);
    }
  }

  /** Appends in-order segments to a ClientHello being gathered; out-of-order ones end the attempt. */
  #gatherHello(f: Flow, p: DecodedPacket, now: number): void {
    const buf = f.tlsBuffer!;
    if (p.tcpSeq !== f.tlsNextSeq || p.truncated) {
      if (((p.tcpSeq + p.payloadLength) >>> 0) === f.tlsNextSeq) return; // a retransmission of what we have
      this.#onClientHello(f, buf, 0, f.tlsBuffered, f.clientHelloMs); // decode what we have
      return;
    }
    const n = Math.min(p.payloadLength, buf.length - f.tlsBuffered);
    p.data.copy(buf, f.tlsBuffered, p.payloadOffset, p.payloadOffset + n);
    f.tlsBuffered += n;
    f.tlsNextSeq = (f.tlsNextSeq + p.payloadLength) >>> 0;
    if (f.tlsBuffered === buf.length) this.#onClientHello(f, buf, 0, buf.length, f.clientHelloMs || now);
  }

  #onClientHello(f: Flow, d: Buffer, at: number, len: number, now: number): void {
    f.tlsBuffer = null;
    const hello = decodeClientHello(d, at, len, this.errors);
    if (hello === null) return;
    f.clientHello = hello;
    f.clientHelloMs = now;
    f.application = 'tls';
    f.serverName = hello.serverName;
  }

  #endpoints(f: Flow): Endpoints {
    return f.endpoints ??= {
      protocol: protocolName(f.protocol), ipVersion: f.ipVersion,
      clientAddress: formatAddress(f.c0, f.c1, f.c2, f.c3), clientPort: f.cPort,
      serverAddress: formatAddress(f.s0, f.s1, f.s2, f.s3), serverPort: f.sPort,
      communityId: communityId(f.ipVersion, f.protocol, [f.c0, f.c1, f.c2, f.c3], f.cPort, [f.s0, f.s1, f.s2, f.s3], f.sPort),
    };
  }

  #onDns(f: Flow, m: DnsMessage, now: number): void {
    if (f.application === null) f.application = 'dns';
    const key = `${f.c0}|${f.c1}|${f.c2}|${f.c3}|${f.cPort}|${f.s3}|${f.sPort}|${m.id}|${m.questionName}`;
    if (!m.response) {
      if (this.#pendingDns.size >= MAX_PENDING_DNS) this.#expireDns(now, false, true);
      this.#pendingDns.set(key, { key, timeMs: now, endpoints: this.#endpoints(f), query: m });
      return;
    }
    const q = this.#pendingDns.get(key);
    if (q !== undefined) this.#pendingDns.delete(key);
    this.#output.dns.push({
      ...(q?.endpoints ?? this.#endpoints(f)), time: Math.floor(q?.timeMs ?? now), transactionId: m.id,
      queryName: m.questionName, queryType: dnsTypeName(m.questionType), responseCode: dnsRcodeName(m.rcode),
      answers: m.answers.map((a) => ({ name: a.name, type: dnsTypeName(a.type), ttl: a.ttl, data: a.data })),
      answerCount: m.answerCount, latencyMs: q === undefined ? null : now - q.timeMs,
    });
  }

  /** Queries without a response after DNS_PAIR_MS (or all of them) are recorded as unanswered. */
  #expireDns(now: number, all: boolean, oldestOnly = false): void {
    for (const q of this.#pendingDns.values()) {
      if (!all && !oldestOnly && now - q.timeMs < DNS_PAIR_MS) break;
      this.#pendingDns.delete(q.key);
      this.#output.dns.push({
        ...q.endpoints, time: Math.floor(q.timeMs), transactionId: q.query.id, queryName: q.query.questionName,
        queryType: dnsTypeName(q.query.questionType), responseCode: null, answers: null, answerCount: null, latencyMs: null,
      });
      if (oldestOnly) break;
    }
  }

  #emitTls(f: Flow): void {
    const h = f.clientHello;
    if (h === null || f.tlsEmitted) return;
    f.tlsEmitted = true;
    const s = f.serverHello;
    this.#output.tls.push({
      ...this.#endpoints(f), time: Math.floor(f.clientHelloMs), serverName: h.serverName, alpnOffered: h.alpn,
      clientVersion: tlsVersionName(h.maxVersion), ja3: h.ja3, ja3Hash: h.ja3Hash, ja4: h.ja4, cipherCount: h.ciphers.length,
      serverVersion: s === null ? null : tlsVersionName(s.selectedVersion), serverCipher: s?.cipher ?? null,
      serverAlpn: s?.alpn ?? null, ja3sHash: s?.ja3sHash ?? null,
    });
  }

  #emitHttp(f: Flow, status: number | null): void {
    const next = f.httpPending?.shift();
    if (next === undefined) return;
    const r = next.request;
    const q = r.target.indexOf('?');
    this.#output.http.push({
      ...this.#endpoints(f), time: Math.floor(next.timeMs), method: r.method, host: r.host,
      path: q < 0 || this.#keepQuery ? r.target : r.target.slice(0, q), hasQuery: q >= 0, version: r.version,
      userAgent: r.userAgent, status,
    });
  }

  #exportFlow(f: Flow, reason: FlowEndReason): void {
    if (reason !== 'active') {
      if (f.tlsBuffer !== null) this.#onClientHello(f, f.tlsBuffer, 0, f.tlsBuffered, f.clientHelloMs);
      this.#emitTls(f);
      while (f.httpPending !== null && f.httpPending.length > 0) this.#emitHttp(f, null);
    }
    this.#output.flows.push({
      ...this.#endpoints(f), startTime: Math.floor(reason === 'active' ? f.intervalStartMs : f.firstMs), endTime: Math.floor(f.lastMs),
      packetsToServer: f.packetsToServer, bytesToServer: f.bytesToServer, packetsToClient: f.packetsToClient,
      bytesToClient: f.bytesToClient, tcpFlagsToServer: f.flagsToServer, tcpFlagsToClient: f.flagsToClient, endReason: reason,
      vlan: f.vlan < 0 ? null : f.vlan, application: f.application, serverName: f.serverName,
      sshClientBanner: f.sshClient, sshServerBanner: f.sshServer,
    });
  }
}
