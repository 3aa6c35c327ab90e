import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureProcess } from '../detect/sql/fixture-runner.ts';
import { diffScans, indexByKey } from './lifecycle-diff.ts';
import type { ProcessSnapshot } from './process-snapshot.ts';

const proc = (p: Record<string, unknown>, i = 0) => fixtureProcess(p, i) as unknown as ProcessSnapshot;

test('the first scan of a new store yields no events', () => {
  assert.deepEqual(diffScans(null, indexByKey([proc({ pid: 1 })]), 0), []);
});

test('start, stop and exec-as-change are told apart; a recycled pid is stop + start', () => {
  const before = indexByKey([
    proc({ pid: 10, start_ticks: 5, name: 'sshd', executable_path: '/usr/sbin/sshd' }),
    proc({ pid: 11, start_ticks: 6, name: 'bash', executable_path: '/usr/bin/bash' }),
    proc({ pid: 12, start_ticks: 7, name: 'old' }),
  ]);
  const after = indexByKey([
    proc({ pid: 10, start_ticks: 5, name: 'sshd', executable_path: '/usr/sbin/sshd' }),
    proc({ pid: 11, start_ticks: 6, name: 'sh', executable_path: '/usr/bin/dash' }),
    proc({ pid: 12, start_ticks: 99, name: 'new' }),
    proc({ pid: 13, start_ticks: 100, name: 'fresh' }),
  ]);
  const events = diffScans(before, after, 1234);
  const brief = events.map((e) => `${e.event}:${e.pid}:${e.name}`).sort();
  assert.deepEqual(brief, ['changed:11:sh', 'start:12:new', 'start:13:fresh', 'stop:12:old']);
  const changed = events.find((e) => e.event === 'changed')!;
  assert.deepEqual(changed.changed_fields, ['name', 'executable_path', 'command_line']);
  assert.deepEqual(changed.previous, { name: 'bash', executable_path: '/usr/bin/bash', command_line: '/usr/bin/bash' });
  assert.ok(events.every((e) => e.detected_at === 1234));
});

test('unchanged processes produce nothing', () => {
  const snap = [proc({ pid: 1 }), proc({ pid: 2 }, 1)];
  assert.deepEqual(diffScans(indexByKey(snap), indexByKey(snap), 0), []);
});
