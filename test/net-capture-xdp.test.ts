// XDP flow accounting on a veth pair: the kernel's per-flow counters match the traffic sent, the
// program is detached on stop, a leftover of ours attached the old (netlink) way is removed on
// start, somebody else's program is left alone; and the collector's packet side forwards capture
// batches, flow counters and pcap_stats to an unprivileged CollectorPacketSource.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
import { decodeFlowRecords, FLOW_RECORD_BYTES, FlowRecordLayout, type FlowCounter } from '../src/sources/pcap/flow-records.ts';
import { loadXdpAddon, XDP_ADDON_PATH, XdpFlowAccounting } from '../src/sources/pcap/xdp-flow-accounting.ts';
import { CollectorCapture } from '../src/sources/pcap/collector-capture.ts';
import { CollectorPacketSource } from '../src/sources/pcap/collector-packet-source.ts';
import { forEachPacket, LinkType, type PacketBatch } from '../src/sources/pcap/index.ts';
import { silentLogger } from '../src/agent/logger.ts';
import { createVethPair, isPromiscuous, netnsUnavailable, pcapAddonBuilt, udpDstPort, type VethPair } from './net-capture-netns.ts';

const FLOW_OBJ = new URL('../native/pcap/build/gen/flow.bpf.o', import.meta.url).pathname;
const skip = netnsUnavailable()
  ?? (existsSync(XDP_ADDON_PATH) && pcapAddonBuilt() ? null : 'the XDP and pcap addons are not built (npm run build:native)')
  ?? (spawnSync('bpftool', ['version']).status === 0 ? null : 'needs bpftool');

const anchor = () => ({ boottimeNs: loadXdpAddon().boottimeNs(), wallMs: Date.now() });
const ours = (v: VethPair, port: number) => (f: FlowCounter) => f.srcAddr === v.nsIp && f.dstAddr === v.hostIp && f.protocol === 17 && f.dstPort === port;

/** Loads an XDP object's first program with bpftool and attaches it the old way (netlink, outlives its loader). */
function attachWithBpftool(obj: string, ifname: string): void {
  const pin = `/sys/fs/bpf/de-test-${process.pid}`;
  execFileSync('bpftool', ['prog', 'load', obj, pin]);
  try {
    execFileSync('bpftool', ['net', 'attach', 'xdp', 'pinned', pin, 'dev', ifname]);
  } finally {
    rmSync(pin, { force: true });
  }
}

describe('XDP flow accounting', { skip: skip ?? false }, () => {
  let veth: VethPair;
  let dir: string;
  before(() => {
    veth = createVethPair('cx', 42);
    dir = mkdtempSync(join(tmpdir(), 'de-xdp-'));
  });
  after(() => {
    if (veth) spawnSync('bpftool', ['net', 'detach', 'xdp', 'dev', veth.hostIf], { stdio: 'ignore' });
    veth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports the C record layout the decoder reads', () => {
    const layout = loadXdpAddon().layout();
    assert.equal(layout.recordBytes, FLOW_RECORD_BYTES);
    for (const [name, offset] of Object.entries(FlowRecordLayout)) assert.equal(layout.fields[name]?.offset, offset, name);
    assert.deepEqual(Object.keys(layout.fields).sort(), Object.keys(FlowRecordLayout).sort());
  });

  it('counts packets and bytes per flow as sent, and detaches on stop', async () => {
    const addon = loadXdpAddon();
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf, pollMs: 3_600_000 }, () => {});
    try {
      assert.equal(addon.attached(veth.hostIf)?.name, 'de_xdp_flow');
      assert.equal(addon.attached(veth.hostIf)?.id, xdp.programId);
      veth.sendUdp([7001, 7002], 30, 100);
      veth.sendUdp([7001], 10, 300);
      const { flows, bad } = decodeFlowRecords(xdp.poll(), anchor());
      assert.equal(bad, 0);
      const a = flows.filter(ours(veth, 7001));
      const b = flows.filter(ours(veth, 7002));
      // Two sender processes (two source ports) for 7001, one for 7002.
      assert.equal(a.reduce((n, f) => n + f.packets, 0), 40);
      assert.equal(a.reduce((n, f) => n + f.bytes, 0), 30 * (14 + 20 + 8 + 100) + 10 * (14 + 20 + 8 + 300));
      assert.equal(b.length, 1);
      assert.equal(b[0]!.packets, 30);
      assert.equal(b[0]!.bytes, 30 * 142);
      assert.equal(b[0]!.directions, 1, 'received: seen by XDP');
      assert.ok(b[0]!.firstSeenMs <= b[0]!.lastSeenMs && Math.abs(b[0]!.lastSeenMs - Date.now()) < 60_000);
      assert.ok(xdp.xdpCounters().packets >= 70);
      // Nothing new since: the next poll reports no flow of ours.
      veth.sendUdp([7003], 5, 10);
      const again = decodeFlowRecords(xdp.poll(), anchor()).flows;
      assert.equal(again.filter(ours(veth, 7001)).length, 0);
      assert.equal(again.filter(ours(veth, 7003))[0]?.packets, 5);
    } finally {
      await xdp.stop();
    }
    assert.equal(addon.attached(veth.hostIf), null, 'detached on stop');
  });

  it('counts sent packets too (TC egress), marked by direction', async () => {
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf, pollMs: 3_600_000 }, () => {});
    try {
      assert.equal(xdp.egress, 'ok');
      assert.equal(loadXdpAddon().tcEgress(veth.hostIf)?.name, 'de_tc_flow');
      const socket = createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, veth.hostIp, () => r()));
      for (let i = 0; i < 12; i++) await new Promise((r) => socket.send(Buffer.alloc(58), 7301, veth.nsIp, r));
      socket.close();
      const sent = decodeFlowRecords(xdp.poll(), anchor()).flows.filter((f) => f.srcAddr === veth.hostIp && f.dstAddr === veth.nsIp && f.dstPort === 7301);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.packets, 12);
      assert.equal(sent[0]!.bytes, 12 * (14 + 20 + 8 + 58));
      assert.equal(sent[0]!.directions, 2);
    } finally {
      await xdp.stop();
    }
    assert.equal(loadXdpAddon().tcEgress(veth.hostIf), null, 'the TC filter is removed on stop');
  });

  it('reports an idle flow a last time, then removes it from the kernel map', async () => {
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf, pollMs: 3_600_000, idleMs: 300 }, () => {});
    try {
      veth.sendUdp([7501], 6, 20);
      const first = decodeFlowRecords(xdp.poll(), anchor()).flows.find(ours(veth, 7501));
      assert.equal(first?.packets, 6);
      await sleep(600);
      // Idle now: reported once more (so the consumer sees its final counters) and deleted.
      const last = decodeFlowRecords(xdp.poll(), anchor()).flows.find(ours(veth, 7501));
      assert.equal(last?.packets, 6);
      // Were it still in the map, an idle flow would be reported by every poll.
      assert.equal(decodeFlowRecords(xdp.poll(), anchor()).flows.find(ours(veth, 7501)), undefined);
    } finally {
      await xdp.stop();
    }
  });

  it('keys IPv6 flows and ORs TCP flags per direction (SYN in, RST+ACK out)', async () => {
    const hostMac = readFileSync(`/sys/class/net/${veth.hostIf}/address`, 'utf8').trim();
    const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', veth.ns, ...args], { encoding: 'utf8' });
    // IPv6 (documentation prefix) on the namespace end only; the host end needs no address for XDP to see it.
    inNs('sh', '-c', `echo 0 > /proc/sys/net/ipv6/conf/${veth.nsIf}/disable_ipv6`);
    inNs('ip', '-6', 'addr', 'add', '2001:db8:de::2/64', 'dev', veth.nsIf, 'nodad');
    inNs('ip', '-6', 'neigh', 'replace', '2001:db8:de::1', 'lladdr', hostMac, 'dev', veth.nsIf, 'nud', 'permanent');
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf, pollMs: 3_600_000 }, () => {});
    try {
      const script = `const d=require('dgram');const s=d.createSocket('udp6');let i=0;(function go(){if(i++>=9)return s.close();s.send(Buffer.alloc(33),7401,'2001:db8:de::1',go)})();
        require('net').connect(7402, ${JSON.stringify(veth.hostIp)}).on('error',()=>{});`;
      inNs(process.execPath, '-e', script);
      await sleep(100);
      const flows = decodeFlowRecords(xdp.poll(), anchor()).flows;
      const v6 = flows.find((f) => f.dstPort === 7401);
      assert.deepEqual(v6 && { family: v6.family, src: v6.srcAddr, dst: v6.dstAddr, packets: v6.packets, bytes: v6.bytes },
        { family: 6, src: '2001:db8:de::2', dst: '2001:db8:de::1', packets: 9, bytes: 9 * (14 + 40 + 8 + 33) });
      const syn = flows.find((f) => f.protocol === 6 && f.dstPort === 7402 && f.srcAddr === veth.nsIp);
      const rst = flows.find((f) => f.protocol === 6 && f.srcPort === 7402 && f.srcAddr === veth.hostIp);
      assert.equal(syn?.tcpFlags, 0x02, 'SYN received');
      assert.equal(syn?.directions, 1);
      assert.equal(rst?.tcpFlags, 0x14, 'RST+ACK sent (nothing listens)');
      assert.equal(rst?.directions, 2);
      assert.equal(rst?.dstPort, syn?.srcPort);
    } finally {
      await xdp.stop();
    }
  });

  it('after a collector is killed (SIGKILL), the next start finds no XDP left and replaces the TC filter it left', async () => {
    const addon = loadXdpAddon();
    const script = `import { XdpFlowAccounting } from ${JSON.stringify(new URL('../src/sources/pcap/xdp-flow-accounting.ts', import.meta.url).href)};
      new XdpFlowAccounting({ interface: ${JSON.stringify(veth.hostIf)} }, () => {}); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const crashed = addon.tcEgress(veth.hostIf);
    assert.equal(crashed?.name, 'de_tc_flow');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(addon.attached(veth.hostIf), null, 'the XDP link died with its process');
    assert.equal(addon.tcEgress(veth.hostIf)?.id, crashed!.id, 'the TC filter outlived it');
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf }, () => {});
    try {
      assert.deepEqual(xdp.removedLeftover, { id: crashed!.id, name: 'de_tc_flow' });
      assert.notEqual(addon.tcEgress(veth.hostIf)?.id, crashed!.id);
    } finally {
      await xdp.stop();
    }
    assert.equal(addon.tcEgress(veth.hostIf), null);
    assert.equal(addon.attached(veth.hostIf), null);
  });

  it('removes a leftover of ours attached by an earlier run, then detaches its own', async () => {
    const addon = loadXdpAddon();
    attachWithBpftool(FLOW_OBJ, veth.hostIf);
    const leftover = addon.attached(veth.hostIf);
    assert.equal(leftover?.name, 'de_xdp_flow');
    const xdp = new XdpFlowAccounting({ interface: veth.hostIf }, () => {});
    try {
      assert.equal(xdp.removedLeftover?.id, leftover!.id);
      assert.notEqual(xdp.programId, leftover!.id);
      assert.equal(addon.attached(veth.hostIf)?.id, xdp.programId);
    } finally {
      await xdp.stop();
    }
    assert.equal(addon.attached(veth.hostIf), null);
  });

  it('refuses to replace somebody else\'s XDP program (DE_PCAP_XDP) and leaves it attached', { skip: spawnSync('clang', ['--version']).status === 0 ? false : 'needs clang' }, () => {
    const src = join(dir, 'other.bpf.c');
    const obj = join(dir, 'other.bpf.o');
    writeFileSync(src, '#include <linux/bpf.h>\n__attribute__((section("xdp"), used)) int other_xdp(struct xdp_md *ctx) { return XDP_PASS; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n');
    execFileSync('clang', ['-O2', '-target', 'bpf', `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', src, '-o', obj]);
    attachWithBpftool(obj, veth.hostIf);
    try {
      assert.throws(() => new XdpFlowAccounting({ interface: veth.hostIf }, () => {}),
        (e: unknown) => isDaemonEyeError(e, 'DE_PCAP_XDP') && /other_xdp/.test(e.message));
      assert.equal(loadXdpAddon().attached(veth.hostIf)?.name, 'other_xdp');
    } finally {
      execFileSync('bpftool', ['net', 'detach', 'xdp', 'dev', veth.hostIf]);
    }
  });

  it('the collector forwards batches unchanged, flow counters and pcap_stats to the agent side', async () => {
    const socketPath = join(dir, 'collector-net.sock');
    const capture = await CollectorCapture.start({
      interface: veth.hostIf, filter: 'udp dst port 7101', snaplen: 1500, bufferMb: 4, flowAccounting: 'xdp', socketPath,
    }, silentLogger, 100);
    const batches: PacketBatch[] = [];
    const flows: FlowCounter[] = [];
    const source = new CollectorPacketSource(socketPath, { onBatch: (b) => batches.push(b), onFlows: (f) => flows.push(...f) });
    try {
      await source.start();
      assert.equal(isPromiscuous(veth.hostIf), true);
      veth.sendUdp([7101, 7102], 25, 64);
      const delivered = (): number => batches.reduce((n, b) => n + forEachPacket(b.data, () => {}).packets, 0);
      for (let i = 0; i < 100 && (delivered() < 25 || !flows.some(ours(veth, 7102)) || (source.captureStats()['pcap_received'] ?? 0) < 25); i++) await sleep(50);
      assert.equal(delivered(), 25, 'only the filtered packets cross as PACKETS');
      assert.ok(batches.every((b) => b.linktype === LinkType.EN10MB));
      for (const b of batches) forEachPacket(b.data, (p) => assert.equal(udpDstPort(b.data.subarray(p.offset, p.offset + p.capturedLength)), 7101));
      // XDP counts everything, filtered or not.
      const f7102 = flows.filter(ours(veth, 7102));
      assert.equal(f7102.at(-1)?.packets, 25);
      assert.equal(source.captureStats()['pcap_dropped_kernel'], 0);
      assert.ok((source.captureStats()['pcap_received'] ?? 0) >= 25);
      assert.equal(source.health().state, 'ok');
    } finally {
      await source.stop();
      await capture.stop();
    }
    assert.equal(isPromiscuous(veth.hostIf), false);
    assert.equal(loadXdpAddon().attached(veth.hostIf), null);
  });
});
