// The socket between collector and agent, for real: a Unix socket in a temp dir, mode 0600,
// batches in order, a replaced agent connection, and a full queue that drops and counts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { CollectorClient } from './collector-client.ts';
import { CollectorServer } from './collector-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-collector-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('batches cross the socket in order after the handshake; the socket is 0600', async () => {
  const path = join(dir, 'a.sock');
  const server = new CollectorServer({ socketPath: path });
  await server.listen();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  server.offer(Buffer.from('queued before the agent came'));
  const got: string[] = [];
  const stats: Record<string, number>[] = [];
  const client = new CollectorClient();
  await client.connect(path, { onBatch: (b) => got.push(b.toString()), onStats: (s) => stats.push(s) });
  assert.equal(client.collectorPid, process.pid);
  for (let i = 0; i < 100; i++) server.offer(Buffer.from(`batch ${i}`));
  server.sendStats({ kernel_drops: 0 });
  await until(() => got.length === 101 && stats.length === 1);
  assert.deepEqual(got.slice(0, 3), ['queued before the agent came', 'batch 0', 'batch 1']);
  assert.equal(got.at(-1), 'batch 99');
  assert.equal(stats[0]!['kernel_drops'], 0);
  assert.equal(client.decoder.counters.checksum_errors, 0);
  client.close();
  await server.close();
});

test('with no agent the collector keeps a bounded queue and counts what it drops', async () => {
  const path = join(dir, 'b.sock');
  const server = new CollectorServer({ socketPath: path, maxQueuedBytes: 10_000 });
  await server.listen();
  for (let i = 0; i < 100; i++) server.offer(Buffer.alloc(1000));
  assert.ok(server.counters.batches_dropped >= 90);
  await server.close();
});

test('connecting to something that is not a collector fails with a clear reason', async () => {
  await assert.rejects(new CollectorClient().connect(join(dir, 'missing.sock'), { onBatch: () => {} }),
    (e) => isDaemonEyeError(e, 'DE_SOURCE_UNAVAILABLE') && /ENOENT/.test(e.message));
});
