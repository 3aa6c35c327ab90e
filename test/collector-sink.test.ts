// The collector's drain thread writes batches to the agent's socket itself (native/src/sink.c): a
// real `daemoneye collector` as root, real execs, and the agent's own client and frame decoder on
// the other end. Frames must arrive whole and in order whatever the agent does: connect late,
// disconnect and come back, or stop reading during a burst (partial writes, then the queue).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectorClient } from '../src/collector/collector-client.ts';
import { FrameDecoder, FrameType } from '../src/collector/protocol.ts';
import { ADDON_PATH } from '../src/sources/ebpf/native-addon.ts';
import { decodeBatch } from '../src/sources/ebpf/records.ts';
import { cliAsync } from './cli-helpers.ts';

const skip = process.getuid?.() !== 0 ? 'needs root to load eBPF programs'
  : !existsSync(ADDON_PATH) ? `the eBPF sensor is not built (${ADDON_PATH}): run scripts/setup.sh`
  : !existsSync('/sys/kernel/btf/vmlinux') ? 'the kernel has no BTF' : false;

const work = mkdtempSync(join(tmpdir(), 'de-sink-'));
const socketPath = join(work, 'collector.sock');
let collector: ChildProcess | null = null;
after(() => {
  collector?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Runs /bin/true with `marker` as its argument `count` times, one after the other. */
function execs(marker: string, count: number): void {
  const r = spawnSync('bash', ['-c', `for i in $(seq 1 ${count}); do /bin/true ${marker}; done`], { stdio: 'ignore' });
  assert.equal(r.status, 0);
}

/** Counts the execs of /bin/true carrying `marker` in decoded batches. */
const markerExecs = (batches: readonly Buffer[], marker: string) =>
  batches.reduce((n, b) => n + decodeBatch(b).events.filter((e) => e.kind === 'exec' && e.argv[1] === marker).length, 0);

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

test('batches written by the collector\'s drain thread reach the agent whole, also when it connects late, leaves and returns, or stalls', { skip, timeout: 120_000 }, async () => {
  collector = cliAsync(['--data-dir', join(work, 'data'), 'collector', '--socket', socketPath]);
  let log = '';
  collector.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  assert.ok(await until(() => log.includes('collector serving'), 30_000), `collector did not start:\n${log}`);

  // No agent yet: the batch waits in the sink's queue and is the first thing the agent gets after HELLO.
  execs('de-sink-before', 3);
  await sleep(200);
  const first = new CollectorClient();
  const got: Buffer[] = [];
  const stats: Record<string, number>[] = [];
  await first.connect(socketPath, { onBatch: (b) => got.push(b), onStats: (s) => stats.push(s) });
  assert.ok(await until(() => markerExecs(got, 'de-sink-before') === 3, 5000), 'execs from before the agent connected are delivered');

  execs('de-sink-live', 300);
  assert.ok(await until(() => markerExecs(got, 'de-sink-live') === 300, 10_000), `all 300 execs arrive (got ${markerExecs(got, 'de-sink-live')})`);
  assert.ok(await until(() => stats.length > 0, 7000), 'STATS frames come in the same stream');
  assert.ok(stats.at(-1)!['batches_sent']! > 0 && stats.at(-1)!['clients'] === 1, JSON.stringify(stats.at(-1)));
  assert.equal(first.decoder.counters.checksum_errors, 0);
  first.close();

  // Gone, then back: what happened in between is delivered to the new connection.
  await sleep(100);
  execs('de-sink-gap', 5);
  await sleep(200);
  const second = new CollectorClient();
  const again: Buffer[] = [];
  await second.connect(socketPath, { onBatch: (b) => again.push(b) });
  assert.ok(await until(() => markerExecs(again, 'de-sink-gap') === 5, 5000), 'execs while no agent was connected reach the next one');
  second.close();

  // An agent that stops reading during a burst: the socket fills, frames are written in part and
  // queued; once it reads again every frame decodes with a good checksum, in order.
  await sleep(100);
  const raw = connect(socketPath);
  const decoder = new FrameDecoder();
  const batches: Buffer[] = [];
  raw.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) if (f.type === FrameType.BATCH) batches.push(f.payload);
  });
  await until(() => decoder.counters.frames > 0, 5000); // HELLO
  raw.pause();
  const burst = spawn('bash', ['-c', 'for i in $(seq 1 3000); do /bin/true de-sink-stall; done'], { stdio: 'ignore' });
  await new Promise((r) => burst.on('exit', r));
  await sleep(300);
  raw.resume();
  assert.ok(await until(() => markerExecs(batches, 'de-sink-stall') === 3000, 20_000), `all 3,000 execs after the stall (got ${markerExecs(batches, 'de-sink-stall')})`);
  assert.equal(decoder.counters.checksum_errors, 0, 'no frame torn by a partial write');
  raw.destroy();
});
