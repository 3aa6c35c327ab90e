// Config files may be planted by someone who wants the monitor down. Whatever the bytes, loading
// ends promptly with a config or a DaemonEyeError: never another exception, a hang or a crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { checkConfigFile } from './load-config.ts';
import { expectError, load, tempDir, writeFile } from './test-helpers.ts';

/** Small seeded PRNG (mulberry32) so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function survives(text: string | Buffer, env: NodeJS.ProcessEnv = {}): void {
  const file = writeFile(tempDir(), 'config.yaml', text);
  try {
    load({ userFile: file, env });
  } catch (err) {
    assert.ok(isDaemonEyeError(err), `not a DaemonEyeError for input ${JSON.stringify(String(text).slice(0, 200))}: ${String(err)}`);
  }
}

const TOKENS = [
  '{', '}', '[', ']', ': ', ', ', '- ', '\n', '  ', '&a ', '*a', '!!str ', '!!binary ', '!custom ', "'", '"', '#',
  '|', '>', '? ', '%YAML 1.2\n', '---\n', '...\n', '<<: *a\n', '1e999', '-0', '0x1F', '.nan', '~', 'null',
  'agent', 'scan_interval', 'enterprise', 'federation', 'sinks', 'type', '__proto__', '${X}', '${', '$${', '\t', '\0', '\u202e',
];

test('random bytes never crash the loader', { timeout: 60_000 }, () => {
  const next = rng(1);
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 2000) }, () => Math.floor(next() * 256)));
    survives(bytes);
  }
});

test('YAML-shaped token soup never crashes the loader', { timeout: 60_000 }, () => {
  const next = rng(2);
  for (let i = 0; i < 500; i++) {
    const text = Array.from({ length: Math.floor(next() * 80) }, () => TOKENS[Math.floor(next() * TOKENS.length)]).join('');
    survives(text, { X: 'x' });
  }
});

test('deep nesting is refused, not a stack overflow', { timeout: 20_000 }, () => {
  survives('['.repeat(100_000) + ']'.repeat(100_000));
  survives('{a: '.repeat(50_000) + '1' + '}'.repeat(50_000));
  survives(Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'));
  // Valid YAML, deep where the schema lets values pass through (sink options).
  const deep = `alerting:\n  sinks:\n    - type: x\n      opts: ${'{a: '.repeat(200)}1${'}'.repeat(200)}\n`;
  const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: writeFile(tempDir(), 'd.yaml', deep) }));
  assert.match(err.message, /nested more than \d+ levels deep/);
});

test('huge and odd numbers are range errors', () => {
  for (const v of ['1e400', '-1e400', '999999999999999999999999999', '.inf', '-.inf', '.nan', '0.5', '1e-400']) {
    const file = writeFile(tempDir(), 'n.yaml', `agent:\n  scan_interval: ${v}\n`);
    const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: file }));
    assert.match(err.message, /agent\.scan_interval: expected an integer from 1 to 86400/);
  }
});

test('a "billion laughs" alias bomb is stopped by the alias limit', { timeout: 10_000 }, () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const file = writeFile(tempDir(), 'bomb.yaml', `alerting:\n  sinks:\n    - type: x\n${levels.map((l) => `      ${l}`).join('\n')}\n`);
  const started = Date.now();
  const err = expectError('DE_CONFIG_PARSE', () => load({ userFile: file }));
  assert.match(err.message, /alias/i);
  assert.ok(Date.now() - started < 5000);
});

test('self-referencing aliases (cycles) are refused', { timeout: 10_000 }, () => {
  for (const cycle of ['a: &a [*a, *a, *a]', 'a: &a {x: *a, y: *a, z: *a}']) {
    const file = writeFile(tempDir(), 'c.yaml', `alerting:\n  sinks:\n    - type: x\n      ${cycle}\n`);
    assert.match(expectError('DE_CONFIG_INVALID', () => load({ userFile: file })).message, /cycle/);
  }
});

test('__proto__ and constructor keys are unknown keys and pollute nothing', () => {
  for (const text of ['__proto__: {polluted: true}\n', 'agent: {__proto__: {polluted: true}}\n', 'constructor: {prototype: {polluted: true}}\n']) {
    expectError('DE_CONFIG_INVALID', () => load({ userFile: writeFile(tempDir(), 'p.yaml', text) }));
  }
  const sink = expectError('DE_CONFIG_INVALID', () => load({ userFile: writeFile(tempDir(), 's.yaml', 'alerting: {sinks: [{type: stdout, __proto__: {polluted: true}}]}\n') }));
  assert.match(sink.message, /alerting\.sinks\[0\]\.__proto__: unknown key/);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  expectError('DE_ENV_INVALID', () => load({ env: { DAEMONEYE___PROTO__: '{polluted: true}' } }));
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('oversized, endless, non-UTF-8 and non-file inputs are refused', { timeout: 20_000 }, () => {
  const dir = tempDir();
  const big = writeFile(dir, 'big.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  assert.match(expectError('DE_CONFIG_PARSE', () => checkConfigFile(big, {})).message, /larger than/);
  assert.match(expectError('DE_CONFIG_PARSE', () => checkConfigFile('/dev/zero', {})).message, /larger than/);
  const latin1 = writeFile(dir, 'latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
  assert.match(expectError('DE_CONFIG_PARSE', () => checkConfigFile(latin1, {})).message, /UTF-8/);
  expectError('DE_CONFIG_NOT_FOUND', () => checkConfigFile(dir, {}));
});

test('hostile environment values are errors too', () => {
  const cyclic = expectError('DE_ENV_INVALID', () => load({ env: { DAEMONEYE_ALERTING__SINKS: '[{type: x, a: &a [*a, *a]}]' } }));
  assert.match(cyclic.message, /DAEMONEYE_ALERTING__SINKS: alerting\.sinks\[0\]\.a\[0\]: .*cycle/);
  for (const value of ['[[[[', '{a: &a [*a]}', '1e999', '\0', '${X}', '- a\n- b']) {
    try {
      load({ env: { DAEMONEYE_AGENT__SCAN_INTERVAL: value, DAEMONEYE_AGENT: value, DAEMONEYE_ALERTING__SINKS: value } });
    } catch (err) {
      assert.ok(isDaemonEyeError(err), String(err));
    }
  }
});
