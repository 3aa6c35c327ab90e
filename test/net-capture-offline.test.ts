// Offline reading: a pcap written by tcpdump and the same packets as pcapng (editcap) come out as
// identical batches, matching tshark's view of the file; damaged and hostile files give
// DE_PCAP_FILE after the packets before the damage, and never crash the process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachPacket, LinkType, openOffline, type PacketBatch } from '../src/sources/pcap/index.ts';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
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

/** A classic microsecond pcap file built in memory (Ethernet), for damage and fuzz tests. */
function pcapFile(packets: readonly Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(LinkType.EN10MB, 20);
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
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
