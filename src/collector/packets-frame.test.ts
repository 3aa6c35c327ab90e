// PACKETS and FLOWS frames: a packet batch crosses the collector socket unchanged with its link
// type, a corrupted one is counted and dropped, and an agent without packet handlers ignores them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodePacketRecord, forEachPacket, LinkType } from '../sources/pcap/batch-format.ts';
import { CollectorClient } from './collector-client.ts';
import { CollectorServer } from './collector-server.ts';
import { decodePacketsPayload, encodePacketsFrame, FrameDecoder, FrameType } from './protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-packets-frame-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const batch = Buffer.concat([
  encodePacketRecord(1_800_000_000, 5, Buffer.from('0123456789abcdef0123', 'hex')),
  encodePacketRecord(1_800_000_001, 999_999_999, Buffer.alloc(61, 7), 1514),
]);

test('a PACKETS frame round-trips the batch byte for byte with its link type', () => {
  const frames = new FrameDecoder().push(encodePacketsFrame(LinkType.LINUX_SLL2, batch));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.type, FrameType.PACKETS);
  const p = decodePacketsPayload(frames[0]!.payload)!;
  assert.equal(p.linktype, LinkType.LINUX_SLL2);
  assert.ok(p.data.equals(batch));
  const lengths: number[] = [];
  forEachPacket(p.data, (r) => lengths.push(r.wireLength));
  assert.deepEqual(lengths, [10, 1514]);
  assert.equal(decodePacketsPayload(Buffer.alloc(3)), null);
});

test('a corrupted PACKETS frame is counted and dropped, the next one still arrives', () => {
  const bad = encodePacketsFrame(LinkType.EN10MB, batch);
  bad[20] = bad[20]! ^ 0xff;
  const decoder = new FrameDecoder();
  const frames = decoder.push(Buffer.concat([bad, encodePacketsFrame(LinkType.EN10MB, batch)]));
  assert.equal(frames.length, 1);
  assert.equal(decoder.counters.checksum_errors, 1);
});

test('packets and flows cross a real socket; a client without handlers ignores them', async () => {
  const path = join(dir, 'net.sock');
  const server = new CollectorServer({ socketPath: path });
  await server.listen();
  const got: { linktype: number; data: Buffer }[] = [];
  const flows: Buffer[] = [];
  const client = new CollectorClient();
  await client.connect(path, { onBatch: () => assert.fail('PACKETS must not arrive as BATCH'), onPackets: (linktype, data) => got.push({ linktype, data }), onFlows: (r) => flows.push(r) });
  server.offerPackets(LinkType.EN10MB, batch);
  server.offerFlows(Buffer.alloc(80, 1));
  for (let i = 0; i < 200 && (got.length < 1 || flows.length < 1); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got[0]?.linktype, LinkType.EN10MB);
  assert.ok(got[0]!.data.equals(batch));
  assert.equal(flows[0]?.length, 80);
  client.close();

  const plain = new CollectorClient();
  const batches: Buffer[] = [];
  await plain.connect(path, { onBatch: (b) => batches.push(b) });
  server.offerPackets(LinkType.EN10MB, batch);
  server.offer(Buffer.from('kernel'));
  for (let i = 0; i < 200 && batches.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(batches.map((b) => b.toString()), ['kernel']);
  plain.close();
  await server.close();
});

test('frames split anywhere (byte by byte, 64 KiB chunks, several per chunk) decode the same', () => {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const stream = Buffer.concat([encodePacketsFrame(LinkType.EN10MB, batch), encodePacketsFrame(LinkType.RAW, big), encodePacketsFrame(LinkType.EN10MB, batch)]);
  const expect = (frames: { type: number; payload: Buffer }[]) => {
    assert.deepEqual(frames.map((f) => decodePacketsPayload(f.payload)!.linktype), [LinkType.EN10MB, LinkType.RAW, LinkType.EN10MB]);
    assert.ok(decodePacketsPayload(frames[1]!.payload)!.data.equals(big));
    assert.ok(frames.every((f) => f.payload.byteOffset === 0 && f.payload.buffer.byteLength === f.payload.length), 'each payload owns its ArrayBuffer');
  };
  for (const size of [65536, 7, 1 << 21]) {
    const d = new FrameDecoder();
    const frames = [];
    for (let at = 0; at < stream.length; at += size) frames.push(...d.push(stream.subarray(at, at + size)));
    expect(frames);
    assert.equal(d.counters.checksum_errors, 0);
  }
  const d = new FrameDecoder();
  const head = stream.subarray(0, 200);
  const frames = [];
  for (let i = 0; i < head.length; i++) frames.push(...d.push(head.subarray(i, i + 1)));
  frames.push(...d.push(stream.subarray(200)));
  expect(frames);
});

test('CollectorPacketSource reports growing capture drops through onDrops, once per increase', async () => {
  const { CollectorPacketSource } = await import('../sources/pcap/collector-packet-source.ts');
  const path = join(dir, 'drops.sock');
  const server = new CollectorServer({ socketPath: path });
  await server.listen();
  const seen: { kernel: number; interface: number; forwardBatches: number }[] = [];
  const source = new CollectorPacketSource(path, { onBatch: () => {}, onDrops: (lost) => seen.push(lost) });
  await source.start();
  const stats = [
    { pcap_received: 100, pcap_dropped_kernel: 0, pcap_dropped_interface: 0 },
    { pcap_received: 200, pcap_dropped_kernel: 5, pcap_dropped_interface: 0 },
    { pcap_received: 300, pcap_dropped_kernel: 5, pcap_dropped_interface: 0 },
    { pcap_received: 400, pcap_dropped_kernel: 9, pcap_dropped_interface: 2 },
  ];
  for (const s of stats) {
    server.sendStats(s);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let i = 0; i < 100 && (source.captureStats()['pcap_received'] ?? 0) < 400; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [{ kernel: 5, interface: 0, forwardBatches: 0 }, { kernel: 4, interface: 2, forwardBatches: 0 }]);
  assert.equal(source.health().state, 'degraded');
  assert.equal(source.counters()['pcap.dropped_kernel'], 9);
  await source.stop();
  await server.close();
});
