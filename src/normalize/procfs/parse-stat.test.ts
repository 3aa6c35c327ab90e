import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStat } from './parse-stat.ts';
import { parseDecimal } from './parse-decimal.ts';

// A real line from a 6.x kernel (bash on pts/0).
const BASH =
  '4242 (bash) S 4200 4242 4242 34816 4300 4194560 1650 9081 0 3 12 7 30 11 20 0 1 0 123456 ' +
  '8990720 1320 18446744073709551615 94 95 0 0 0 0 65536 3686404 1266761467 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

test('parses a real stat line', () => {
  const s = parseStat(BASH);
  assert.deepEqual(s, {
    pid: 4242, comm: 'bash', state: 'S', ppid: 4200, pgrp: 4242, session: 4242, ttyNr: 34816,
    flags: 4194560, utime: 12, stime: 7, numThreads: 1, startTicks: 123456, rssPages: 1320,
    imageMarker: '',
  });
});

test('image marker from the stack and argument/environment addresses', () => {
  const line = (stack: string, arg: string, env: string, envEnd: string) =>
    '7 (sleep) S 1 7 7 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 500 8581120 256 18446744073709551615 ' +
    `94556 94600 ${stack} 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94700 94800 98000 ${arg} 140727650 ${env} ${envEnd} 0\n`;
  assert.equal(parseStat(line('140727594', '140727600', '140727650', '140727700'))?.imageMarker,
    '140727594:140727600:140727650:140727700');
  // Hidden from readers without ptrace access: all zero, so unknown.
  assert.equal(parseStat(line('0', '0', '0', '0'))?.imageMarker, '');
  // Addresses beyond 2^53 (5-level paging) do not make the line malformed.
  assert.equal(parseStat(line('72057594037927935', '1', '2', '3'))?.imageMarker, '72057594037927935:1:2:3');
});

test('comm with spaces and parentheses is cut at the last ")"', () => {
  const s = parseStat(BASH.replace('(bash)', '(a) b) S 1 (x)'));
  assert.equal(s?.comm, 'a) b) S 1 (x');
  assert.equal(s?.ppid, 4200);
  assert.equal(s?.state, 'S');
});

test('comm with a newline and an empty comm', () => {
  assert.equal(parseStat(BASH.replace('(bash)', '(x\ny)'))?.comm, 'x\ny');
  assert.equal(parseStat(BASH.replace('(bash)', '()'))?.comm, '');
});

test('kernel thread line (rss 0, flags with PF_KTHREAD)', () => {
  const line = '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 1 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0';
  const s = parseStat(line);
  assert.equal(s?.flags, 2129984);
  assert.equal((s!.flags & 0x00200000) !== 0, true);
  assert.equal(s?.ppid, 0);
  assert.equal(s?.ttyNr, 0);
});

test('hostile and truncated input returns null, never throws', () => {
  const bad = [
    '', '\n', '4242', '4242 (bash', '4242 bash) S 1', 'x (bash) S 1 2 3',
    '4242 (bash) S', '4242 (bash)S 4200 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 1 0 0',
    BASH.slice(0, 60), BASH.replace(' 123456 ', ' 12x456 '), BASH.replace(' 4200 ', ' -4200 '),
    BASH.replace(' S ', ' SS '), BASH.replace(' 12 7 ', ' 1e3 7 '), BASH.replace(' 12 7 ', '  7 '),
    BASH.replace('4242 (', '0 ('), BASH.replace(' 123456 ', ' 99999999999999999999 '),
    '\u0000'.repeat(100), ')'.repeat(1000), '('.repeat(1000) + ' ',
  ];
  for (const text of bad) assert.equal(parseStat(text), null, JSON.stringify(text.slice(0, 40)));
});

test('parseDecimal accepts only plain decimal integers', () => {
  assert.equal(parseDecimal('0'), 0);
  assert.equal(parseDecimal('-1'), -1);
  assert.equal(parseDecimal('4026531836'), 4026531836);
  for (const t of ['', '-', ' 1', '1 ', '0x10', '1e3', '1.5', '+1', '12345678901234567', '9007199254740993']) {
    assert.equal(parseDecimal(t), null, t);
  }
});
