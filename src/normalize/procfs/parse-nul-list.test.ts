import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCmdline, pickEnvironment } from './parse-nul-list.ts';

test('cmdline: arguments with spaces stay whole', () => {
  assert.deepEqual(parseCmdline('/bin/sh\0-c\0echo a  b\0'), ['/bin/sh', '-c', 'echo a  b']);
  assert.deepEqual(parseCmdline('a\0\0b\0'), ['a', '', 'b']);
});

test('cmdline: kernel threads, zombies, missing final NUL, setproctitle padding', () => {
  assert.deepEqual(parseCmdline(''), []);
  assert.deepEqual(parseCmdline('sleep\x0030'), ['sleep', '30']);
  assert.deepEqual(parseCmdline('nginx: worker process' + '\0'.repeat(40)), ['nginx: worker process']);
  assert.deepEqual(parseCmdline('\0\0\0'), []);
});

const ALLOW = new Set(['PATH', 'LD_PRELOAD', 'HOME']);

test('environ: only allow-listed names are kept', () => {
  const env = pickEnvironment('PATH=/usr/bin:/bin\0SECRET_TOKEN=x\0LD_PRELOAD=/tmp/x.so\0AWS_KEY=y\0', ALLOW);
  assert.deepEqual({ ...env }, { PATH: '/usr/bin:/bin', LD_PRELOAD: '/tmp/x.so' });
  assert.equal(JSON.stringify(env), '{"PATH":"/usr/bin:/bin","LD_PRELOAD":"/tmp/x.so"}');
});

test('environ: first definition wins, values may contain = and be empty', () => {
  const env = pickEnvironment('HOME=/root\0HOME=/evil\0PATH=\0LD_PRELOAD=a=b\0', ALLOW);
  assert.deepEqual({ ...env }, { HOME: '/root', PATH: '', LD_PRELOAD: 'a=b' });
});

test('environ: hostile input', () => {
  assert.deepEqual({ ...pickEnvironment('', ALLOW) }, {});
  assert.deepEqual({ ...pickEnvironment('=PATH\0PATH\0\0\0=\0', ALLOW) }, {});
  assert.deepEqual({ ...pickEnvironment('__proto__=1\0constructor=2', ALLOW) }, {});
  const proto = pickEnvironment('__proto__=x', new Set(['__proto__']));
  assert.equal(Object.getPrototypeOf(proto), null);
  assert.equal(JSON.stringify(proto), '{"__proto__":"x"}');
  assert.deepEqual({ ...pickEnvironment('HOME=/h', ALLOW) }, { HOME: '/h' }); // no final NUL
  // Many entries without '=' must stay linear, not quadratic: 200k entries in well under a second.
  const start = performance.now();
  pickEnvironment('x\0'.repeat(200_000) + 'PATH=/p', ALLOW);
  assert.ok(performance.now() - start < 1000);
});
