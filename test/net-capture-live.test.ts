// Live capture on a veth pair between namespaces: the filter is honoured, promiscuous mode is on
// only while capturing, pcap_stats are reported, batches parse with forEachPacket, a bad filter is
// DE_PCAP_FILTER with the position, and `net capture --count --write` writes a readable pcap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachPacket, LinkType, LiveCapture, openOffline, type PacketBatch } from '../src/sources/pcap/index.ts';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
import { cliAsync, MAIN } from './cli-helpers.ts';
import { createVethPair, isPromiscuous, netnsUnavailable, pcapAddonBuilt, udpDstPort, type VethPair } from './net-capture-netns.ts';

const skip = netnsUnavailable() ?? (pcapAddonBuilt() ? null : 'the pcap addon is not built (npm run build:native)');

/** Waits until `seen()` reaches `n` (or a generous deadline passes: the assertion then reports the shortfall). */
async function until(seen: () => number, n: number): Promise<void> {
  for (let i = 0; i < 100 && seen() < n; i++) await sleep(50);
}

describe('live capture on a veth pair', { skip: skip ?? false }, () => {
  let veth: VethPair;
  let dir: string;
  before(() => {
    veth = createVethPair('cl', 40);
    dir = mkdtempSync(join(tmpdir(), 'de-capture-'));
  });
  after(() => {
    veth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers only what the filter selects, in batches forEachPacket walks, with pcap_stats', async () => {
    const batches: PacketBatch[] = [];
    const capture = new LiveCapture({ interface: veth.hostIf, filter: 'udp dst port 5001', timeoutMs: 20 }, { onBatch: (b) => batches.push(b) });
    try {
      assert.equal(capture.linktype, LinkType.EN10MB);
      veth.sendUdp([5001, 5002], 60, 200);
      await until(() => capture.stats().delivered, 60);
    } finally {
      await capture.stop();
    }
    const ports: number[] = [];
    let truncated = false;
    for (const b of batches) {
      const r = forEachPacket(b.data, (p) => {
        assert.equal(p.capturedLength, p.wireLength);
        ports.push(udpDstPort(b.data.subarray(p.offset, p.offset + p.capturedLength)));
      });
      truncated ||= r.truncated;
    }
    assert.equal(truncated, false);
    assert.equal(ports.length, 60, 'every datagram to port 5001, none to 5002');
    assert.ok(ports.every((p) => p === 5001));
    const s = capture.stats();
    assert.equal(s.delivered, 60);
    assert.ok(s.received >= 60, `pcap_stats received ${s.received}`);
    assert.equal(s.droppedKernel, 0);
    assert.equal(s.userDrops, 0);
    assert.equal(s.batches, batches.length);
    assert.equal(capture.counters()['pcap.delivered'], 60);
  });

  it('counts every packet it could not keep: delivered + dropped by the kernel = received', async () => {
    // A 1 MiB kernel buffer, small batches, and an event loop blocked while 20 MB arrive (the
    // sender runs synchronously): the addon's queue fills, it stops draining, the kernel drops.
    let delivered = 0;
    const capture = new LiveCapture({ interface: veth.hostIf, filter: 'udp dst port 5009', bufferMb: 1, batchBytes: 4096, timeoutMs: 5 }, {
      onBatch: (b) => (delivered += forEachPacket(b.data, () => {}).packets),
    });
    try {
      veth.sendUdp([5009], 20_000, 1000);
      await until(() => (capture.stats().received === 20_000 && capture.stats().delivered === delivered ? 1 : 0), 1);
      const s = capture.stats();
      assert.equal(s.received, 20_000);
      assert.ok(s.droppedKernel > 0, 'the burst overflowed the 1 MiB buffer');
      assert.equal(s.delivered + s.droppedKernel, s.received);
      assert.equal(capture.health().state, 'degraded');
      assert.match(capture.health().reason ?? '', /buffer_size_mb/);
    } finally {
      await capture.stop();
    }
    assert.equal(delivered, capture.stats().delivered, 'every delivered packet reached JavaScript');
  });

  it('sets IFF_PROMISC while capturing and clears it after; not at all with promiscuous: false', async () => {
    assert.equal(isPromiscuous(veth.hostIf), false);
    const capture = new LiveCapture({ interface: veth.hostIf, promiscuous: true }, { onBatch: () => {} });
    assert.equal(isPromiscuous(veth.hostIf), true);
    await capture.stop();
    assert.equal(isPromiscuous(veth.hostIf), false);
    await capture.stop(); // twice is fine
    const quiet = new LiveCapture({ interface: veth.hostIf, promiscuous: false }, { onBatch: () => {} });
    assert.equal(isPromiscuous(veth.hostIf), false);
    await quiet.stop();
  });

  it('captures on "any" with Linux cooked headers and no promiscuous mode', async () => {
    const batches: PacketBatch[] = [];
    const capture = new LiveCapture({ interface: 'any', filter: `udp dst port 5007 and host ${veth.hostIp}`, timeoutMs: 20 }, { onBatch: (b) => batches.push(b) });
    try {
      assert.equal(capture.linktype, LinkType.LINUX_SLL);
      assert.equal(capture.warning, '');
      assert.equal(isPromiscuous(veth.hostIf), false);
      veth.sendUdp([5007], 9, 20);
      await until(() => capture.stats().delivered, 9);
    } finally {
      await capture.stop();
    }
    let n = 0;
    for (const b of batches) {
      assert.equal(b.linktype, LinkType.LINUX_SLL);
      forEachPacket(b.data, (p) => {
        n++;
        // SLL header: 16 bytes, protocol at 14; then the IPv4 header.
        assert.equal(b.data.readUInt16BE(p.offset + 14), 0x0800);
        assert.equal(b.data.readUInt16BE(p.offset + 16 + 20 + 2), 5007);
      });
    }
    assert.equal(n, 9);
  });

  it('a capture killed with SIGKILL leaves no promiscuous interface behind', async () => {
    const child = cliAsync(['net', 'capture', '-i', veth.hostIf, '--duration', '60']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise((r) => child.on('exit', r));
    for (let i = 0; i < 100 && !stderr.includes('capturing on'); i++) await sleep(50);
    assert.equal(isPromiscuous(veth.hostIf), true, stderr);
    child.kill('SIGKILL');
    await exited;
    // The kernel drops the packet socket's promiscuous membership with the socket.
    for (let i = 0; i < 20 && isPromiscuous(veth.hostIf); i++) await sleep(50);
    assert.equal(isPromiscuous(veth.hostIf), false);
  });

  it('snaplen truncates what is kept but reports the wire length', async () => {
    const batches: PacketBatch[] = [];
    const capture = new LiveCapture({ interface: veth.hostIf, filter: 'udp dst port 5003', snaplen: 64, timeoutMs: 20 }, { onBatch: (b) => batches.push(b) });
    try {
      // The capture thread may still be starting: probe until one packet comes through, then send five.
      for (let i = 0; i < 50 && capture.stats().delivered === 0; i++) {
        veth.sendUdp([5003], 1, 1000);
        for (let j = 0; j < 10 && capture.stats().delivered === 0; j++) await sleep(20);
      }
      const before = capture.stats().delivered;
      veth.sendUdp([5003], 5, 1000);
      await until(() => capture.stats().delivered, before + 5);
    } finally {
      await capture.stop();
    }
    const lengths: [number, number][] = [];
    for (const b of batches) forEachPacket(b.data, (p) => lengths.push([p.capturedLength, p.wireLength]));
    assert.ok(lengths.length >= 6, `${lengths.length} packets captured`);
    assert.deepEqual(lengths, Array(lengths.length).fill([64, 14 + 20 + 8 + 1000]));
  });

  it('refuses a filter that does not compile with DE_PCAP_FILTER naming the column and token', () => {
    assert.throws(
      () => new LiveCapture({ interface: veth.hostIf, filter: 'udp port 53 adn tcp' }, { onBatch: () => {} }),
      (e: unknown) => {
        assert.ok(isDaemonEyeError(e, 'DE_PCAP_FILTER'), String(e));
        assert.match(e.message, /column 13 near 'adn'/);
        assert.equal((e as unknown as { column: number }).column, 13);
        assert.equal((e as unknown as { token: string }).token, 'adn');
        return true;
      },
    );
    assert.equal(isPromiscuous(veth.hostIf), false, 'a refused capture leaves the interface as it was');
  });

  it('an unprivileged user gets DE_PCAP_PERMISSION with a hint, exit code 4', { skip: spawnSync('setpriv', ['--version']).status === 0 ? false : 'needs setpriv' }, () => {
    // HOME without a config file, cwd and data dir the unprivileged user may read.
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'env', 'HOME=/nonexistent-home', process.execPath, MAIN,
      '--data-dir', '/nonexistent-data', 'net', 'capture', '-i', veth.hostIf, '--count', '1'], { encoding: 'utf8', cwd: '/', timeout: 30_000 });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /DE_PCAP_PERMISSION/);
    assert.match(r.stderr, /hint: run as root/);
    assert.equal(isPromiscuous(veth.hostIf), false);
  });

  it('names a missing interface with DE_PCAP_NO_DEVICE', () => {
    assert.throws(() => new LiveCapture({ interface: 'denosuchif0' }, { onBatch: () => {} }), (e: unknown) => isDaemonEyeError(e, 'DE_PCAP_NO_DEVICE'));
  });

  it('reports DE_PCAP_CAPTURE through onEnd when the interface disappears', async () => {
    const name = `dg${process.pid % 100000}`;
    execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
    try {
      execFileSync('ip', ['link', 'set', name, 'up']);
      let ended: unknown = null;
      const capture = new LiveCapture({ interface: name }, { onBatch: () => {}, onEnd: (e) => (ended = e ?? 'no error') });
      execFileSync('ip', ['link', 'del', name]);
      for (let i = 0; i < 100 && ended === null; i++) await sleep(50);
      assert.ok(isDaemonEyeError(ended, 'DE_PCAP_CAPTURE'), String(ended));
      assert.match((ended as Error).message, new RegExp(name));
      assert.equal(capture.health().state, 'unavailable');
      await capture.stop();
    } finally {
      spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
    }
  });

  it('ends on its own at maxPackets', async () => {
    let delivered = 0;
    let ended = false;
    const capture = new LiveCapture({ interface: veth.hostIf, filter: 'udp dst port 5004', maxPackets: 7, timeoutMs: 20 }, {
      onBatch: (b) => (delivered += forEachPacket(b.data, () => {}).packets),
      onEnd: (error) => {
        assert.equal(error, undefined);
        ended = true;
      },
    });
    try {
      veth.sendUdp([5004], 20);
      await until(() => (ended ? 1 : 0), 1);
    } finally {
      await capture.stop();
    }
    assert.equal(ended, true);
    assert.equal(delivered, 7);
  });

  it('`net capture --count --write` writes a pcap file tcpdump and openOffline read back', async () => {
    const file = join(dir, 'out.pcap');
    const child = cliAsync(['net', 'capture', '-i', veth.hostIf, '--filter', 'udp dst port 5005', '--count', '12', '--write', file, '--format', 'json']);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 100 && !stderr.includes('capturing on'); i++) await sleep(50);
    assert.match(stderr, /capturing on /);
    veth.sendUdp([5005, 5006], 20);
    const deadline = setTimeout(() => child.kill(), 15_000).unref();
    const code = await exited;
    clearTimeout(deadline);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as { packets: number; dropped_kernel: number; written: string };
    assert.equal(summary.packets, 12);
    assert.equal(summary.dropped_kernel, 0);
    const tcpdump = spawnSync('tcpdump', ['-nr', file], { encoding: 'utf8' });
    assert.equal(tcpdump.stdout.trim().split('\n').length, 12, tcpdump.stderr);
    assert.match(tcpdump.stdout, /\.5005: UDP/);
    let packets = 0;
    for (const b of openOffline(file)) forEachPacket(b.data, (p) => {
      packets++;
      assert.equal(udpDstPort(b.data.subarray(p.offset, p.offset + p.capturedLength)), 5005);
    });
    assert.equal(packets, 12);
  });
});
