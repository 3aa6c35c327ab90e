// `daemoneye collector --capture` for real: the privileged process opens the capture (and XDP),
// serves packet batches on collector-net.sock beside kernel events on collector.sock, and an
// unprivileged CollectorPacketSource receives them unchanged. On SIGTERM the interface leaves
// promiscuous mode and the XDP program is detached.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADDON_PATH } from '../src/sources/ebpf/native-addon.ts';
import { CollectorPacketSource } from '../src/sources/pcap/collector-packet-source.ts';
import { forEachPacket, LinkType, type PacketBatch } from '../src/sources/pcap/index.ts';
import type { FlowCounter } from '../src/sources/pcap/flow-records.ts';
import { loadXdpAddon, XDP_ADDON_PATH } from '../src/sources/pcap/xdp-flow-accounting.ts';
import { cliAsync } from './cli-helpers.ts';
import { createVethPair, isPromiscuous, netnsUnavailable, pcapAddonBuilt, udpDstPort, type VethPair } from './net-capture-netns.ts';

const skip = netnsUnavailable()
  ?? (pcapAddonBuilt() && existsSync(XDP_ADDON_PATH) && existsSync(ADDON_PATH) ? null : 'the native addons are not built (npm run build:native)');

describe('daemoneye collector --capture', { skip: skip ?? false }, () => {
  let veth: VethPair;
  let dir: string;
  before(() => {
    veth = createVethPair('cc', 43);
    dir = mkdtempSync(join(tmpdir(), 'de-collector-net-'));
  });
  after(() => {
    veth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forwards filtered packets and XDP flow counters to an unprivileged client, and cleans up on exit', async () => {
    const packetSocket = join(dir, 'collector-net.sock');
    const child = cliAsync(['--data-dir', dir, 'collector', '--capture', '--capture-interface', veth.hostIf,
      '--capture-filter', 'udp dst port 7201', '--flow-accounting', 'xdp', '--packet-socket', packetSocket]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 200 && !stderr.includes('packet capture open'); i++) await sleep(50);
      assert.match(stderr, /packet capture open/, stderr);
      assert.match(stderr, /xdp flow accounting attached/);
      const batches: PacketBatch[] = [];
      const flows: FlowCounter[] = [];
      const source = new CollectorPacketSource(packetSocket, { onBatch: (b) => batches.push(b), onFlows: (f) => flows.push(...f) });
      await source.start();
      assert.equal(isPromiscuous(veth.hostIf), true);
      veth.sendUdp([7201, 7202], 15, 50);
      const delivered = (): number => batches.reduce((n, b) => n + forEachPacket(b.data, () => {}).packets, 0);
      const counted = (port: number): number => flows.filter((f) => f.dstPort === port && f.srcAddr === veth.nsIp).reduce((m, f) => Math.max(m, f.packets), 0);
      for (let i = 0; i < 100 && (delivered() < 15 || counted(7202) < 15); i++) await sleep(50);
      assert.equal(delivered(), 15);
      assert.ok(batches.every((b) => b.linktype === LinkType.EN10MB));
      for (const b of batches) forEachPacket(b.data, (p) => assert.equal(udpDstPort(b.data.subarray(p.offset, p.offset + p.capturedLength)), 7201));
      assert.equal(counted(7201), 15);
      assert.equal(counted(7202), 15, 'XDP counts what the capture filter leaves out');
      await source.stop();
    } finally {
      child.kill('SIGTERM');
      const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      await exited;
      clearTimeout(deadline);
    }
    assert.equal(isPromiscuous(veth.hostIf), false);
    assert.equal(loadXdpAddon().attached(veth.hostIf), null);
    assert.equal(existsSync(packetSocket), false);
  });
});
