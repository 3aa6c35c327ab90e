import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserNames } from './user-names.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-passwd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('names from the file, re-read when it changes, none when it goes away', () => {
  const path = join(dir, 'passwd');
  writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\n');
  const users = new UserNames(path);
  users.refresh();
  assert.equal(users.nameOf(0), 'root');
  assert.equal(users.nameOf(1000), null);
  assert.equal(users.nameOf(null), null);
  writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  utimesSync(path, new Date(), new Date(Date.now() + 2000));
  users.refresh();
  assert.equal(users.nameOf(1000), 'alice');
  rmSync(path);
  users.refresh();
  assert.equal(users.nameOf(0), null);
});
