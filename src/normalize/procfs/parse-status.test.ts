import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatus } from './parse-status.ts';

const STATUS = [
  'Name:\tpasswd', 'Umask:\t0022', 'State:\tS (sleeping)', 'Tgid:\t900', 'Pid:\t900', 'PPid:\t880',
  'Uid:\t1000\t0\t0\t0', 'Gid:\t1000\t1000\t1000\t1000', 'FDSize:\t64', 'Groups:\t4 27 1000 ',
  'Kthread:\t0', 'VmRSS:\t    2176 kB', 'Threads:\t3', 'SigQ:\t0/63510', '',
].join('\n');

test('real and effective ids of a setuid process, threads, kthread', () => {
  assert.deepEqual(parseStatus(STATUS), { uid: 1000, euid: 0, gid: 1000, egid: 1000, threads: 3, kthread: false });
});

test('older kernels without Kthread and a kernel thread', () => {
  const old = STATUS.replace('Kthread:\t0\n', '');
  assert.equal(parseStatus(old)?.kthread, null);
  assert.equal(parseStatus(STATUS.replace('Kthread:\t0', 'Kthread:\t1'))?.kthread, true);
});

test('a name line that looks like a key does not confuse the parser', () => {
  // Name is escaped by the kernel (\n becomes "\\n"), but be sure a hostile name cannot inject ids.
  const text = STATUS.replace('Name:\tpasswd', 'Name:\tUid:\t0\t0\t0\t0');
  assert.equal(parseStatus(text)?.uid, 1000);
});

test('missing or malformed ids return null', () => {
  assert.equal(parseStatus(''), null);
  assert.equal(parseStatus(STATUS.replace(/^Uid:.*$/m, '')), null);
  assert.equal(parseStatus(STATUS.replace(/^Gid:.*$/m, 'Gid:\tabc\t1')), null);
  assert.equal(parseStatus(STATUS.replace(/^Uid:.*$/m, 'Uid:\t1000')), null);
  assert.equal(parseStatus(STATUS.replace(/^Uid:.*$/m, 'Uid:\t-1\t0\t0\t0')), null);
  assert.equal(parseStatus('\0\0\0:::\n:\n'), null);
});

test('a malformed thread count keeps the ids', () => {
  const s = parseStatus(STATUS.replace('Threads:\t3', 'Threads:\tmany'));
  assert.equal(s?.threads, null);
  assert.equal(s?.uid, 1000);
});
