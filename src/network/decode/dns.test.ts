import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newDecodeErrors } from './decode-errors.ts';
import { decodeDns } from './dns.ts';

function header(qd: number, an: number, response = true): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x1234, 0);
  h.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

test('a name pointing at itself, or forward, is counted as a loop and not followed', () => {
  const errors = newDecodeErrors();
  const self = Buffer.concat([header(1, 0), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(decodeDns(self, 0, self.length, errors), null);
  const forward = Buffer.concat([header(1, 0), Buffer.from([0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0])]);
  assert.equal(decodeDns(forward, 0, forward.length, errors), null);
  // Two labels pointing at each other: a -> b -> a.
  const pair = Buffer.concat([header(1, 0), Buffer.from([1, 0x61, 0xc0, 15, 1, 0x62, 0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(decodeDns(pair, 0, pair.length, errors), null);
  assert.equal(errors.dns_name_loop, 3);
});

test('compressed answers resolve; labels with dots or bytes outside ASCII are escaped as dig does', () => {
  const errors = newDecodeErrors();
  const q = Buffer.from([3, 0x77, 0x77, 0x77, 4, 0x61, 0x2e, 0x62, 0xff, 0, 0, 1, 0, 1]);
  const a = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
  const m = decodeDns(Buffer.concat([header(1, 1), q, a]), 0, 12 + q.length + a.length, errors)!;
  assert.equal(m.questionName, 'www.a\\046b\\255');
  assert.deepEqual(m.answers, [{ name: 'www.a\\046b\\255', type: 1, ttl: 60, data: '10.0.0.1' }]);
});

test('a name longer than 255 bytes and truncated records are counted', () => {
  const errors = newDecodeErrors();
  const labels = Buffer.concat(Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])));
  const long = Buffer.concat([header(1, 0), labels, Buffer.from([0, 0, 1, 0, 1])]);
  assert.equal(decodeDns(long, 0, long.length, errors), null);
  assert.equal(errors.dns_bad_name, 1);
  const short = Buffer.concat([header(1, 1), Buffer.from([1, 0x61, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1])]);
  const m = decodeDns(short, 0, short.length, errors)!;
  assert.equal(m.answers.length, 0);
  assert.equal(errors.dns_bad_record, 1);
});
