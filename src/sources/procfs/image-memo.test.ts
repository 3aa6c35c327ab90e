import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageMemo } from './image-memo.ts';

test('environment is remembered per program image', () => {
  const memo = new ImageMemo();
  memo.beginScan();
  assert.equal(memo.environment(7, 100, '1:2:3:4'), undefined);
  memo.rememberEnvironment(7, 100, '1:2:3:4', '{"PATH":"/bin"}');
  assert.equal(memo.environment(7, 100, '1:2:3:4'), '{"PATH":"/bin"}');
  assert.equal(memo.environment(7, 100, '5:6:7:8'), undefined, 'exec: new addresses');
  assert.equal(memo.environment(7, 101, '1:2:3:4'), undefined, 'pid reused');
  memo.rememberEnvironment(7, 100, '', '{}');
  assert.equal(memo.environment(7, 100, ''), undefined, 'unknown image: never remembered');
});

test('exe path is remembered per stat key; unseen processes are dropped', () => {
  const memo = new ImageMemo();
  memo.beginScan();
  memo.rememberExe(9, 50, 'dev:ino:ctime:1', '/usr/bin/x', 1);
  assert.deepEqual(memo.exe(9, 50, 'dev:ino:ctime:1'), ['/usr/bin/x', 1]);
  assert.equal(memo.exe(9, 50, 'dev:ino:ctime2:0'), undefined);
  memo.rememberExe(9, 50, 'dev:ino:ctime:1', '/usr/bin/x', 1);
  memo.endScan();
  memo.beginScan();
  memo.endScan();
  memo.beginScan();
  assert.equal(memo.exe(9, 50, 'dev:ino:ctime:1'), undefined);
});
