// The dispatcher with a real sink (the JSONL file sink) and a real store: the failures are real
// too (the file's path is a directory, so the write fails with EISDIR until the test fixes it).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AlertRecorder } from '../alerts/alert-recorder.ts';
import { silentLogger } from '../agent/logger.ts';
import type { RuleMeta } from '../detect/sql/rule.ts';
import { JsonlFileSink } from '../sinks/jsonl-file-sink.ts';
import { openMemoryStore } from '../store/open-store.ts';
import { OutboxStore } from './outbox-store.ts';
import { SinkDispatcher } from './sink-dispatcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-dispatch-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const rule: RuleMeta = { id: 'T-1', name: 'r', version: 1, severity: 'high', attack: ['T1059'], tags: [], kind: 'event' };

function setup(file: string, maxAttempts = 4) {
  const db = openMemoryStore();
  const outbox = new OutboxStore(db);
  const sink = new JsonlFileSink(file);
  let clock = 1_000_000;
  const dead: number[] = [];
  const dispatcher = new SinkDispatcher(sink, outbox,
    { batchSize: 10, maxAttempts, timeoutMs: 5000, ratePerMinute: 600, breaker: { threshold: 3, openMs: 10_000 }, backoff: { baseMs: 100, capMs: 1000 } },
    silentLogger, { now: () => clock, random: () => 0.5, onDeadLetter: (_s, ids) => dead.push(...ids) });
  const recorder = new AlertRecorder(db, 'h', (a, now) => outbox.enqueue(sink.name, a.alert_id, now));
  const raise = (n: number, offset = 0) => recorder.record({
    findings: Array.from({ length: n }, (_, i) => ({ rule, row: { pid: 100 + offset + i, start_time: 1, command_line: `cmd ${offset + i}` } })),
    outcomes: [],
  }, 1, clock);
  return { db, outbox, dispatcher, raise, dead, tick: (ms: number) => (clock += ms), pending: () => (db.prepare('SELECT count(*) AS n FROM alert_outbox').get() as { n: number }).n };
}

test('alerts enter the outbox with the alert and leave it only once the file has them', async () => {
  const file = join(dir, 'ok.jsonl');
  const s = setup(file);
  s.raise(3);
  assert.equal(s.pending(), 3);
  const r = await s.dispatcher.deliverDue();
  assert.equal(r.delivered, 3);
  assert.equal(s.pending(), 0);
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3);
  assert.equal((await s.dispatcher.deliverDue()).delivered, 0, 'nothing left');
});

test('failures back off, open the breaker, probe with one alert, and recover without loss', async () => {
  const file = join(dir, 'flaky.jsonl');
  mkdirSync(file); // a directory where the file should be: every write fails for real
  const s = setup(file, 100);
  s.raise(4);
  for (let i = 0; i < 3; i++) {
    const r = await s.dispatcher.deliverDue();
    assert.equal(r.failed, 4);
    assert.ok(r.nextInMs! > 0);
    if (i < 2) s.tick(r.nextInMs!);
    else assert.equal(r.nextInMs, 10_000, 'the third failure opens the breaker for its full pause');
  }
  assert.equal(s.dispatcher.circuit, 'open');
  assert.equal((await s.dispatcher.deliverDue()).failed, 0, 'an open breaker sends nothing');
  rmSync(file, { recursive: true });
  s.tick(10_000);
  const probe = await s.dispatcher.deliverDue();
  assert.equal(probe.delivered, 1, 'half-open: one alert as the probe');
  assert.equal(s.dispatcher.circuit, 'closed');
  assert.equal((await s.dispatcher.deliverDue()).delivered, 3);
  assert.equal(s.pending(), 0);
  const status = s.db.prepare('SELECT delivered, failures, circuit FROM sink_status').get();
  assert.deepEqual(status, { delivered: 4, failures: 3, circuit: 'closed' });
});

test('after max_attempts alerts become dead letters, and redrive puts them back', async () => {
  const file = join(dir, 'dead.jsonl');
  mkdirSync(file);
  const s = setup(file, 2);
  s.raise(2);
  s.tick((await s.dispatcher.deliverDue()).nextInMs!);
  const r = await s.dispatcher.deliverDue();
  assert.equal(r.deadLettered.length, 2);
  assert.deepEqual(s.dead.length, 2);
  assert.equal(s.pending(), 0);
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM alert_dead_letters').get() as { n: number }).n, 2);
  rmSync(file, { recursive: true });
  assert.equal(s.outbox.redrive('jsonl_file', null, 0), 2);
  s.tick(20_000);
  assert.equal((await s.dispatcher.deliverDue()).delivered, 2);
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM alert_dead_letters').get() as { n: number }).n, 0);
});

test('the rate limit spreads a burst over time instead of dropping it', async () => {
  const s = setup(join(dir, 'rate.jsonl'));
  s.raise(15);
  const first = await s.dispatcher.deliverDue();
  assert.equal(first.delivered, 10, 'one batch');
  assert.equal((await s.dispatcher.deliverDue()).delivered, 5);
  assert.equal(s.pending(), 0);
});
