import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHello, encodeFrame, FrameDecoder, FrameType, helloFrame } from './protocol.ts';

test('frames survive any split of the byte stream', () => {
  const frames = [helloFrame(42), encodeFrame(FrameType.BATCH, Buffer.alloc(5000, 7)), encodeFrame(FrameType.STATS, Buffer.from('{"x":1}'))];
  const stream = Buffer.concat(frames);
  for (const step of [1, 3, 8, 9, 100, stream.length]) {
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)));
    assert.deepEqual(got.map((f) => [f.type, f.payload.length]), [[1, frames[0]!.length - 9], [2, 5000], [3, 7]]);
  }
});

test('frames read through one reused buffer (a socket read buffer) decode intact at any split', () => {
  const payloads = [Buffer.alloc(5000, 1), Buffer.alloc(3, 2), Buffer.alloc(20_000, 3)];
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(FrameType.BATCH, p)));
  for (const step of [1, 7, 4096, 9000]) {
    const d = new FrameDecoder();
    const reused = Buffer.alloc(step);
    const got = [];
    for (let i = 0; i < stream.length; i += step) {
      const n = stream.copy(reused, 0, i, i + step);
      got.push(...d.push(reused.subarray(0, n), true));
      reused.fill(0xee); // the next read overwrites it
    }
    assert.deepEqual(got.map((f) => f.payload), payloads, `step ${step}`);
    assert.equal(d.counters.checksum_errors, 0);
  }
});

test('a corrupted frame is dropped and counted; the next one still decodes', () => {
  const bad = encodeFrame(FrameType.BATCH, Buffer.from('records'));
  bad[12] = bad[12]! ^ 0xff;
  const d = new FrameDecoder();
  const got = d.push(Buffer.concat([bad, encodeFrame(FrameType.STATS, Buffer.from('{}'))]));
  assert.deepEqual(got.map((f) => f.type), [FrameType.STATS]);
  assert.equal(d.counters.checksum_errors, 1);
});

test('an impossible length is fatal for the stream', () => {
  const d = new FrameDecoder();
  const junk = Buffer.alloc(16);
  junk.writeUInt32LE(0xffffffff, 0);
  assert.throws(() => d.push(junk), /out of step/);
});

test('the handshake pins magic and version', () => {
  assert.deepEqual(checkHello({ type: FrameType.HELLO, payload: helloFrame(9, { boottimeNs: 2n ** 60n, wallMs: 5 }).subarray(9) }),
    { ok: true, pid: 9, anchor: { boottimeNs: 2n ** 60n, wallMs: 5 }, sensor: 'ebpf' });
  assert.equal((checkHello({ type: FrameType.HELLO, payload: helloFrame(9, undefined, 'netlink').subarray(9) }) as { sensor: string }).sensor, 'netlink');
  const other = encodeFrame(FrameType.HELLO, Buffer.from(JSON.stringify({ magic: 'daemoneye-collector', version: 99, pid: 1 })));
  const r = checkHello(new FrameDecoder().push(other)[0]!);
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /protocol 99/);
  assert.equal(checkHello({ type: FrameType.BATCH, payload: Buffer.alloc(0) }).ok, false);
});

test('fuzz: random bytes never crash the decoder except by the documented out-of-step error', () => {
  let seed = 3;
  const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 2000; i++) {
    const d = new FrameDecoder();
    const junk = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    try {
      d.push(junk);
    } catch (e) {
      assert.match((e as Error).message, /out of step/);
    }
  }
});
