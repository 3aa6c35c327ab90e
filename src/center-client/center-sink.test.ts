import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../alerts/alert.ts';
import { chunks } from './center-sink.ts';

const alert = (i: number, commandLine = 'x'): Alert => ({ alert_id: i, command_line: commandLine } as unknown as Alert);

test('requests stay within 1,000 alerts and about 4 MiB, in order, nothing dropped', () => {
  const many = Array.from({ length: 2500 }, (_, i) => alert(i + 1));
  const parts = chunks(many);
  assert.deepEqual(parts.map((p) => p.length), [1000, 1000, 500]);
  assert.deepEqual(parts.flat().map((a) => a.alert_id), many.map((a) => a.alert_id));
  const big = Array.from({ length: 10 }, (_, i) => alert(i + 1, 'y'.repeat(1024 * 1024)));
  const bigParts = chunks(big);
  assert.ok(bigParts.every((p) => p.length <= 4));
  assert.equal(bigParts.flat().length, 10);
  assert.deepEqual(chunks([]), []);
});

test('alerts are clipped to what the center accepts: long command lines cut, huge evidence replaced by its digest', async () => {
  const { clipForCenter } = await import('./center-sink.ts');
  const { alertInput } = await import('../center/alert-input.ts');
  const { sampleAlert } = await import('../center/testing/center-harness.ts');
  const long = { ...sampleAlert(1, '6f1c2a9e-5b7d-4e11-9a0c-000000000001'), command_line: 'a'.repeat(200_000), evidence: { rows: 'b'.repeat(2_000_000) } } as unknown as Alert;
  assert.equal(alertInput.safeParse(long).success, false, 'the center would refuse it as is');
  const clipped = clipForCenter(long);
  assert.equal(alertInput.safeParse(clipped).success, true);
  assert.match(clipped.command_line!, /…\[clipped 200000\]$/);
  assert.equal((clipped.evidence as { clipped: boolean }).clipped, true);
  const small = sampleAlert(2, '6f1c2a9e-5b7d-4e11-9a0c-000000000002') as unknown as Alert;
  assert.equal(clipForCenter(small), small, 'an alert within limits is sent unchanged');
});
