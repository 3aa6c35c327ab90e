import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDeletedExe } from './exe-link.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-exe-link-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a plain path exists; the kernel suffix means deleted', () => {
  assert.deepEqual(resolveDeletedExe('/usr/bin/sleep', undefined), ['/usr/bin/sleep', 1]);
  assert.deepEqual(resolveDeletedExe('/tmp/dropper (deleted)', undefined), ['/tmp/dropper', 0]);
});

test('a file really named "x (deleted)" is not taken for a deleted one', () => {
  const path = join(dir, 'x (deleted)');
  writeFileSync(path, 'x');
  assert.deepEqual(resolveDeletedExe(path, statSync(path)), [path, 1]);
  // Same name, but the running file is another inode: the named file is a decoy.
  writeFileSync(join(dir, 'other'), 'y');
  assert.deepEqual(resolveDeletedExe(path, statSync(join(dir, 'other'))), [join(dir, 'x'), 0]);
});
