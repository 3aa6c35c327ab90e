import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DaemonEyeError, ERRORS, isDaemonEyeError } from './catalogue.ts';

test('docs/errors.md lists every code with its hint and exit status, and nothing else', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((l) => /^\| DE_/.test(l)).map((l) => l.split(/(?<!\\)\|/).map((c) => c.trim()));
  const documented = new Map(rows.map((c) => [c[1]!, { summary: c[2]!, hint: c[3]!.replace(/\\\|/g, '|'), exit: Number(c[4]) }]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERRORS).sort());
  for (const [code, spec] of Object.entries(ERRORS)) assert.deepEqual(documented.get(code), { ...spec }, code);
});

test('an error carries its code, hint, cause and exit status', () => {
  const cause = new Error('disk on fire');
  const e = new DaemonEyeError('DE_STORE_CORRUPT', 'x.db is damaged', { cause });
  assert.equal(e.code, 'DE_STORE_CORRUPT');
  assert.equal(e.hint, ERRORS.DE_STORE_CORRUPT.hint);
  assert.equal(e.exitCode, 3);
  assert.match(e.describe(), /^error DE_STORE_CORRUPT: x\.db is damaged\n  hint: .+\n  cause: disk on fire$/);
  assert.ok(isDaemonEyeError(e, 'DE_STORE_CORRUPT'));
  assert.ok(!isDaemonEyeError(e, 'DE_STORE_LOCKED'));
});
