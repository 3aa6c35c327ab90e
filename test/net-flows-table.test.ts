// The flow table's lifecycle: FIN/RST close after a linger, idle and active timeouts export like
// NetFlow, the memory bound evicts the least recently seen flow (and counts it), and without a SYN
// the side on the well-known port is the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketAnalyzer } from '../src/network/analyzer.ts';
import { encodePacketRecord, LinkType } from '../src/sources/pcap/batch-format.ts';
import { ipv4, tcp, udp } from './net-decode-packets.ts';

const T0 = 1_767_225_600;
const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;

function feed(a: PacketAnalyzer, packets: [number, Buffer][]): void {
  a.ingest({ linktype: LinkType.RAW, data: Buffer.concat(packets.map(([t, p]) => encodePacketRecord(Math.floor(t), Math.round((t % 1) * 1e9), p))) });
}

const c2s = (flags: number, payload = Buffer.alloc(0)) => ipv4('10.0.0.5', '198.51.100.10', 6, tcp(40000, 443, flags, 1, payload));
const s2c = (flags: number) => ipv4('198.51.100.10', '10.0.0.5', 6, tcp(443, 40000, flags, 1));

test('a TCP connection closed by FIN on both sides is one flow, exported after the linger with both directions counted', () => {
  const a = new PacketAnalyzer();
  feed(a, [[T0, c2s(SYN)], [T0 + 0.01, s2c(SYN | ACK)], [T0 + 0.02, c2s(ACK)], [T0 + 0.03, c2s(PSH | ACK, Buffer.alloc(100))],
    [T0 + 0.5, c2s(FIN | ACK)], [T0 + 0.51, s2c(FIN | ACK)], [T0 + 0.52, c2s(ACK)]]);
  assert.equal(a.drain().flows.length, 0, 'still lingering');
  feed(a, [[T0 + 3, ipv4('10.0.0.9', '10.0.0.10', 17, udp(5000, 6000, Buffer.alloc(4)))]]);
  const [f] = a.drain().flows;
  assert.ok(f);
  assert.equal(f.endReason, 'fin');
  assert.equal(f.packetsToServer, 5);
  assert.equal(f.packetsToClient, 2);
  assert.equal(f.bytesToServer, 4 * 40 + 140);
  assert.equal(f.tcpFlagsToServer, SYN | ACK | PSH | FIN);
  assert.equal(f.clientPort, 40000);
  assert.equal(a.flows.size, 1, 'the final ACK did not open a flow of its own');
});

test('a RST ends the flow; idle flows are exported after the idle timeout', () => {
  const a = new PacketAnalyzer({ idleTimeoutMs: 10_000 });
  feed(a, [[T0, c2s(SYN)], [T0 + 0.01, s2c(RST | ACK)], [T0 + 1, ipv4('10.0.0.7', '198.51.100.53', 17, udp(33333, 53, Buffer.alloc(20)))]]);
  feed(a, [[T0 + 12, ipv4('10.0.0.8', '10.0.0.1', 17, udp(1, 2, Buffer.alloc(1)))]]);
  const flows = a.drain().flows;
  assert.deepEqual(flows.map((f) => f.endReason).sort(), ['idle', 'rst']);
});

test('a long flow is exported every active timeout with the interval counters, then at its end', () => {
  const a = new PacketAnalyzer({ activeTimeoutMs: 30_000, idleTimeoutMs: 60_000 });
  const packets: [number, Buffer][] = [[T0, c2s(SYN)]];
  for (let s = 1; s <= 70; s++) packets.push([T0 + s, c2s(ACK)]);
  feed(a, packets);
  a.flush();
  const flows = a.drain().flows;
  assert.deepEqual(flows.map((f) => f.endReason), ['active', 'active', 'end_of_capture']);
  assert.equal(flows.reduce((n, f) => n + f.packetsToServer, 0), 71, 'no packet counted twice or lost');
});

test('the table is bounded: beyond maxFlows the least recently seen flow is exported as evicted and counted', () => {
  const a = new PacketAnalyzer({ maxFlows: 100 });
  const packets: [number, Buffer][] = [];
  for (let i = 0; i < 250; i++) packets.push([T0 + i / 1000, ipv4('10.0.0.5', '198.51.100.10', 17, udp(10000 + i, 53, Buffer.alloc(12)))]);
  feed(a, packets);
  assert.equal(a.flows.size, 100);
  assert.equal(a.flows.counters.evictions, 150);
  const evicted = a.drain().flows;
  assert.equal(evicted.length, 150);
  assert.deepEqual(evicted.slice(0, 3).map((f) => f.clientPort), [10000, 10001, 10002], 'oldest first');
  assert.ok(evicted.every((f) => f.endReason === 'evicted'));
});

test('without a SYN, the side on the well-known port is the server', () => {
  const a = new PacketAnalyzer();
  feed(a, [[T0, s2c(ACK)], [T0 + 0.1, c2s(ACK)]]);
  a.flush();
  const [f] = a.drain().flows;
  assert.equal(f!.serverPort, 443);
  assert.equal(f!.packetsToClient, 1);
  assert.equal(f!.packetsToServer, 1);
});
