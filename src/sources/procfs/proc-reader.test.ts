import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcReader } from './proc-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-reader-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reads real procfs files of this process', () => {
  const r = new ProcReader();
  assert.match(r.readText('/proc/self/stat') ?? '', /^\d+ \(/);
  assert.equal(r.readText('/proc/self/cmdline')?.split('\0')[0], process.argv0);
  assert.match(r.readLink('/proc/self/ns/pid') ?? '', /^pid:\[\d+\]$/);
});

test('files larger than the buffer grow it; maxBytes truncates', () => {
  const path = join(dir, 'big');
  writeFileSync(path, 'a'.repeat(100_000));
  const r = new ProcReader(1024 * 1024, 16);
  assert.equal(r.readText(path)?.length, 100_000);
  assert.equal(r.truncated, false);
  const small = new ProcReader(1000, 16);
  assert.equal(small.readText(path)?.length, 1000);
  assert.equal(small.truncated, true);
});

test('failures return null with the errno code', () => {
  const r = new ProcReader();
  assert.equal(r.readText(join(dir, 'missing')), null);
  assert.equal(r.error, 'ENOENT');
  assert.equal(r.readText(dir), null);
  assert.equal(r.error, 'EISDIR');
  symlinkSync('pid:[4026531836]', join(dir, 'link'));
  assert.equal(r.readLink(join(dir, 'link')), 'pid:[4026531836]');
  assert.equal(r.readLink(join(dir, 'missing')), null);
  assert.equal(r.error, 'ENOENT');
});
