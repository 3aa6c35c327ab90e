// End to end: `daemoneye run` with stix_taxii.enable_integration syncs the configured feed into its
// store while it runs (the real CLI, our TAXII server on loopback), and stops cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { storePath } from '../src/store/open-store.ts';
import { COLLECTION, indicator, startOurServer } from './taxii-helpers.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

test('the agent pulls the configured feed into its store while it runs, and stops cleanly on SIGTERM', async () => {
  const s = await startOurServer();
  s.storage.add(COLLECTION, Array.from({ length: 12 }, (_, i) => indicator(i + 1)));
  const dir = mkdtempSync(join(tmpdir(), 'intel-agent-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, [
    'agent: {scan_interval: 3600}',
    'enterprise:',
    '  stix_taxii:',
    '    enable_integration: true',
    `    taxii_endpoint: ${s.apiRoot}`,
    `    collection_id: ${COLLECTION}`,
    '    page_size: 5',
  ].join('\n'));
  const child = spawn(process.execPath, [MAIN, '--config', cfg, '--data-dir', join(dir, 'data'), 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    // Wait (bounded) for the first round to land; this is a wait, not a timing assertion.
    let n = 0;
    for (let i = 0; i < 300 && n < 12; i++) {
      await sleep(100);
      const path = storePath(join(dir, 'data'));
      if (!existsSync(path)) continue;
      const db = new Database(path, { readonly: true });
      try {
        n = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'intel_indicators'").pluck().get() === 1
          ? db.prepare('SELECT count(*) FROM intel_indicators').pluck().get() as number : 0;
      } catch {
        n = 0; // the agent may still be migrating
      } finally {
        db.close();
      }
    }
    assert.equal(n, 12, stderr);
    assert.match(stderr, /TAXII feed synced.*feed="default".*objects=12/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    await s.close();
  }
});
