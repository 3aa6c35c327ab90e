import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNsLink } from './parse-ns-link.ts';
import { parsePasswd } from './parse-passwd.ts';
import { parseBootTime, parseUptime } from './parse-proc-stat.ts';

test('namespace link targets', () => {
  assert.equal(parseNsLink('pid:[4026531836]'), 4026531836);
  assert.equal(parseNsLink('net:[4026532008]'), 4026532008);
  for (const bad of ['', 'pid:[]', 'pid:[x]', 'pid:4026531836', ':[1]', 'pid:[1', 'pid:[0]', 'pid:[-5]']) {
    assert.equal(parseNsLink(bad), null, bad);
  }
});

test('passwd: uid to name, first wins, junk skipped', () => {
  const text = 'root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\n:x:5:5::/:/bin/sh\n' +
    'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nbad:x:abc:1::/:/bin/sh\n';
  const names = parsePasswd(text);
  assert.equal(names.get(0), 'root');
  assert.equal(names.get(1000), 'alice');
  assert.equal(names.size, 2);
  assert.equal(parsePasswd('').size, 0);
});

test('boot time from /proc/stat', () => {
  const text = 'cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 99\nbtime 1795889333\nprocesses 1234\n';
  assert.equal(parseBootTime(text), 1795889333);
  assert.equal(parseBootTime('btime 17\n'), 17);
  for (const bad of ['', 'cpu 1\n', 'btime\n', 'btime x\n', 'xbtime 5\n', 'btime 0\n']) assert.equal(parseBootTime(bad), null, bad);
});

test('uptime', () => {
  assert.equal(parseUptime('1234.56 4321.00\n'), 1234.56);
  assert.equal(parseUptime('17 1\n'), 17);
  for (const bad of ['', 'x', '-1.0 2', '1.2.3 4', '. 1', '5. 1']) assert.equal(parseUptime(bad), null, bad);
});
