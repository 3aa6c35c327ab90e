// Offline reading: a pcap written by tcpdump and the same packets as pcapng (editcap) come out as
// identical batches, matching tshark's view of the file; damaged and hostile files give
// DE_PCAP_FILE after the packets before the damage, and never crash the process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachPacket, LinkType, openOffline, type PacketBatch } from '../src/sources/pcap/index.ts';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
import { openPcapng } from '../src/sources/pcap/pcapng-reader.ts';
import { createVethPair, netnsUnavailable, pcapAddonBuilt, type VethPair } from './net-capture-netns.ts';

const noAddon = pcapAddonBuilt() ? null : 'the pcap addon is not built (npm run build:native)';
const hasTool = (t: string): boolean => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0;

interface Packet {
  ts: string;
  caplen: number;
  wirelen: number;
  hex: string;
}

function readAll(batches: Iterable<PacketBatch>): Packet[] {
  const out: Packet[] = [];
  for (const b of batches) {
    const r = forEachPacket(b.data, (p) => out.push({
      ts: `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`, caplen: p.capturedLength, wirelen: p.wireLength,
      hex: b.data.subarray(p.offset, p.offset + p.capturedLength).toString('hex'),
    }));
    assert.equal(r.truncated, false);
  }
  return out;
}

/** A classic microsecond pcap file built in memory, for damage and fuzz tests. */
function pcapFile(packets: readonly Buffer[], linktype: number = LinkType.EN10MB, firstSecond = 1_700_000_000, step = 1): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(linktype, 20);
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(firstSecond + i * step, 0);
    r.writeUInt32LE(i * 1000, 4);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  return Buffer.concat([head, ...recs]);
}

describe('offline pcap/pcapng reading', { skip: noAddon ?? false }, () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'de-offline-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('a tcpdump capture of real traffic', { skip: netnsUnavailable() ?? (hasTool('tcpdump') && hasTool('editcap') && hasTool('tshark') ? false : 'needs tcpdump, editcap and tshark') }, () => {
    let veth: VethPair;
    before(() => (veth = createVethPair('co', 41)));
    after(() => veth?.cleanup());

    it('gives the same packets as pcap and pcapng, matching tshark', async () => {
      const pcap = join(dir, 'udp.pcap');
      const pcapng = join(dir, 'udp.pcapng');
      const tcpdump = spawn('tcpdump', ['-i', veth.hostIf, '-U', '-w', pcap, '-c', '40', 'udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      tcpdump.stderr.on('data', (d: Buffer) => (err += d));
      for (let i = 0; i < 100 && !err.includes('listening on'); i++) await sleep(50);
      veth.sendUdp([6001, 6002], 20, 300);
      const killer = setTimeout(() => tcpdump.kill(), 10_000).unref();
      await new Promise((r) => tcpdump.on('exit', r));
      clearTimeout(killer);
      assert.equal(spawnSync('editcap', ['-F', 'pcapng', pcap, pcapng]).status, 0);

      const a = openOffline(pcap);
      const b = openOffline(pcapng);
      assert.equal(a.format, 'pcap');
      assert.equal(b.format, 'pcapng');
      assert.equal(a.linktype, LinkType.EN10MB);
      assert.equal(b.linktype, LinkType.EN10MB);
      assert.equal(a.linktypeName, 'EN10MB');
      const fromPcap = readAll(a);
      const fromPcapng: Packet[] = [];
      for await (const batch of b) fromPcapng.push(...readAll([batch]));
      assert.equal(fromPcap.length, 40);
      assert.deepEqual(fromPcapng, fromPcap);

      const tshark = spawnSync('tshark', ['-r', pcapng, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'udp.dstport'], { encoding: 'utf8' });
      const rows = tshark.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.equal(rows.length, 40);
      rows.forEach(([time, cap, len, port], i) => {
        assert.equal(time, fromPcap[i]!.ts);
        assert.equal(Number(cap), fromPcap[i]!.caplen);
        assert.equal(Number(len), fromPcap[i]!.wirelen);
        assert.ok(port === '6001' || port === '6002');
      });
      assert.equal(a.position(), a.size, 'progress reaches the file size at the end');
      // Our own pcapng reader (used for mixed link types) agrees with libpcap on the same file.
      const ours = openPcapng(pcapng);
      const fromOurs: Packet[] = [];
      for (let batch = ours.next(); batch !== null; batch = ours.next()) fromOurs.push(...readAll([batch]));
      ours.close();
      assert.deepEqual(fromOurs, fromPcap);
    });
  });

  it('splits a long file into batches of about batchBytes, losing nothing', () => {
    const packets = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(60 + (i % 50), i & 0xff));
    const file = join(dir, 'many.pcap');
    writeFileSync(file, pcapFile(packets));
    const capture = openOffline(file, { batchBytes: 16 * 1024 });
    const batches = [...capture];
    assert.ok(batches.length > 5, `${batches.length} batches`);
    assert.ok(batches.every((b) => b.data.length <= 16 * 1024 + 65536 + 32));
    const got = readAll(batches);
    assert.equal(got.length, 3000);
    assert.equal(got[2999]!.hex, packets[2999]!.toString('hex'));
    assert.equal(got[1]!.ts, '1700000001.001000000', 'microsecond files (1000 us here) are scaled to nanoseconds');
  });

  it('reads a pcapng whose interfaces have different link types (libpcap refuses it) batch by link type, as tshark does', { skip: hasTool('mergecap') && hasTool('tshark') ? false : 'needs mergecap and tshark' }, () => {
    const ip = (i: number) => Buffer.from(`4500001c0000000040110000c63364${(i + 1).toString(16).padStart(2, '0')}cb0071020fa00035000800000000`, 'hex');
    const eth = (i: number) => Buffer.concat([Buffer.from('0200000000010200000000020800', 'hex'), ip(i)]);
    // Interleaved in time: eth at even seconds, raw IP at odd seconds.
    writeFileSync(join(dir, 'eth.pcap'), pcapFile([0, 2, 4].map(eth), LinkType.EN10MB, 1_800_000_000, 2));
    writeFileSync(join(dir, 'raw.pcap'), pcapFile([1, 3].map(ip), LinkType.RAW, 1_800_000_001, 2));
    const mixed = join(dir, 'mixed.pcapng');
    assert.equal(spawnSync('mergecap', ['-F', 'pcapng', '-w', mixed, join(dir, 'eth.pcap'), join(dir, 'raw.pcap')]).status, 0);
    const file = openOffline(mixed);
    assert.equal(file.format, 'pcapng');
    const got: [number, string, string][] = [];
    for (const b of file) forEachPacket(b.data, (p) => got.push([b.linktype, `${p.tsSec}`, b.data.subarray(p.offset, p.offset + p.capturedLength).toString('hex')]));
    const tshark = spawnSync('tshark', ['-r', mixed, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'ip.src'], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.deepEqual(got.map(([, ts]) => ts), tshark.map((l) => l.split('.')[0]));
    assert.deepEqual(got.map(([lt]) => lt), [1, 101, 1, 101, 1]);
    assert.deepEqual(got.map(([, , hex]) => hex), [eth(0), ip(1), eth(2), ip(3), eth(4)].map((b) => b.toString('hex')));
  });

  it('our pcapng reader survives mutated files: packets or DE_PCAP_FILE, never anything else', { skip: hasTool('editcap') ? false : 'needs editcap' }, () => {
    const src = join(dir, 'fz.pcap');
    const ng = join(dir, 'fz.pcapng');
    writeFileSync(src, pcapFile(Array.from({ length: 12 }, (_, i) => Buffer.alloc(40 + i * 5, i))));
    assert.equal(spawnSync('editcap', ['-F', 'pcapng', src, ng]).status, 0);
    const base = readFileSync(ng);
    const file = join(dir, 'fz-mut.pcapng');
    let seed = 4242;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const m = Buffer.from(base);
      for (let k = 0, n = 1 + rand(4); k < n; k++) m[rand(m.length)] = rand(256);
      writeFileSync(file, rand(6) === 0 ? m.subarray(0, rand(m.length)) : m);
      try {
        const r = openPcapng(file);
        try {
          for (let b = r.next(); b !== null; b = r.next()) assert.equal(forEachPacket(b.data, () => {}).truncated, false);
        } finally {
          r.close();
        }
      } catch (e) {
        assert.ok(isDaemonEyeError(e, 'DE_PCAP_FILE'), String(e));
        refused++;
      }
    }
    assert.ok(refused > 0 && refused < 300, `${refused} of 300 refused`);
  });

  it('delivers the packets before a truncation, then DE_PCAP_FILE', () => {
    const whole = pcapFile(Array.from({ length: 10 }, (_, i) => Buffer.alloc(100, i)));
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, whole.subarray(0, whole.length - 50));
    const capture = openOffline(file);
    const seen: Packet[] = [];
    assert.throws(() => {
      for (const b of capture) seen.push(...readAll([b]));
    }, (e: unknown) => isDaemonEyeError(e, 'DE_PCAP_FILE') && /cut\.pcap: .*truncated/.test(e.message));
    assert.equal(seen.length, 9);
  });

  it('refuses a missing file, a non-capture file and an empty file with DE_PCAP_FILE', () => {
    writeFileSync(join(dir, 'text.pcap'), 'GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    writeFileSync(join(dir, 'empty.pcap'), '');
    for (const name of ['missing.pcap', 'text.pcap', 'empty.pcap']) {
      assert.throws(() => openOffline(join(dir, name)), (e: unknown) => isDaemonEyeError(e, 'DE_PCAP_FILE') && e.message.includes(name), name);
    }
  });

  it('survives mutated files: every outcome is packets or DE_PCAP_FILE', () => {
    const base = pcapFile(Array.from({ length: 20 }, (_, i) => Buffer.alloc(40 + i * 7, i)));
    const file = join(dir, 'fuzz.pcap');
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let failures = 0;
    for (let round = 0; round < 300; round++) {
      const mutated = Buffer.from(base);
      for (let k = 0, n = 1 + rand(6); k < n; k++) {
        // Bias towards the headers, where a lie about lengths does the damage.
        const at = rand(4) === 0 ? rand(mutated.length) : rand(24 + 16 * 3);
        mutated[at] = rand(256);
      }
      writeFileSync(file, rand(5) === 0 ? mutated.subarray(0, rand(mutated.length)) : mutated);
      try {
        for (const b of openOffline(file)) {
          const r = forEachPacket(b.data, () => {});
          assert.equal(r.truncated, false);
        }
      } catch (e) {
        assert.ok(isDaemonEyeError(e, 'DE_PCAP_FILE'), String(e));
        failures++;
      }
    }
    assert.ok(failures > 0 && failures < 300, `${failures} of 300 mutated files refused`);
  });
});
