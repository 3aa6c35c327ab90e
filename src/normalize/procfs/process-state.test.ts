import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processStateName } from './process-state.ts';
import { ttyName } from './tty-name.ts';

test('state letters', () => {
  const expected: Record<string, string> = {
    R: 'running', S: 'sleeping', D: 'disk_sleep', Z: 'zombie', T: 'stopped', t: 'tracing_stop',
    X: 'dead', I: 'idle', P: 'parked', W: 'waking', K: 'wakekill',
  };
  for (const [letter, word] of Object.entries(expected)) assert.equal(processStateName(letter), word);
  for (const bad of ['', 'Q', 'RS', 'constructor', '__proto__', 'toString']) assert.equal(processStateName(bad), null);
});

test('tty_nr to device names', () => {
  assert.equal(ttyName(0), null);
  assert.equal(ttyName(34816), 'pts/0'); // 136:0
  assert.equal(ttyName(34819), 'pts/3');
  assert.equal(ttyName((137 << 8) | 5), 'pts/261'); // second block of 256 ptys
  assert.equal(ttyName((136 << 8) | (1 << 20)), 'pts/256'); // minor bits above 8 live at bit 20
  assert.equal(ttyName(1025), 'tty1'); // 4:1
  assert.equal(ttyName((4 << 8) | 64), 'ttyS0');
  assert.equal(ttyName((5 << 8) | 1), 'console');
  assert.equal(ttyName((188 << 8) | 2), 'ttyUSB2');
  assert.equal(ttyName((200 << 8) | 7), '200:7');
  assert.equal(ttyName(-1), '4095:1048575');
  for (const bad of [NaN, 1.5, 2 ** 40, -(2 ** 40)]) assert.equal(ttyName(bad), null);
});
