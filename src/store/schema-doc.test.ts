// docs/schema.md and the DDL must not drift: every documented table and column exists with the
// documented type, and every table, view and column in the store is documented.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROCESS_SNAPSHOT_COLUMNS } from '../normalize/process-snapshot.ts';
import { openMemoryStore } from './open-store.ts';

// docs/schema.md holds the core tables; each later area documents its tables in docs/schema/AREA.md.
const areaDir = new URL('../../docs/schema/', import.meta.url);
const doc = [readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8'),
  ...readdirSync(areaDir).filter((f) => f.endsWith('.md')).sort().map((f) => readFileSync(new URL(f, areaDir), 'utf8'))].join('\n');

function documented(): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  for (const line of doc.split('\n')) {
    const h = /^### (\w+)/.exec(line);
    if (h) {
      current = new Map();
      tables.set(h[1]!, current);
      continue;
    }
    const row = /^\| (\w+) \| (\w+) \|/.exec(line);
    if (row && current && row[1] !== 'column') current.set(row[1]!, row[2]!);
  }
  return tables;
}

test('every table and view in the store is documented with its columns and types', () => {
  const db = openMemoryStore();
  const docs = documented();
  const objects = db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[];
  assert.deepEqual(objects.map((o) => o.name).sort(), [...docs.keys()].sort());
  for (const { name } of objects) {
    const actual = db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(name) as { name: string; type: string }[];
    const expected = docs.get(name)!;
    assert.deepEqual(actual.map((c) => c.name).sort(), [...expected.keys()].sort(), `columns of ${name}`);
    for (const c of actual) {
      // Views report no declared type for computed columns; tables must match exactly.
      if (c.type !== '') assert.equal(c.type, expected.get(c.name), `type of ${name}.${c.name}`);
    }
  }
  db.close();
});

test('the ProcessSnapshot column list is exactly the process_snapshots table', () => {
  const db = openMemoryStore();
  const cols = (db.prepare(`SELECT name FROM pragma_table_info('process_snapshots')`).all() as { name: string }[]).map((c) => c.name);
  assert.deepEqual(cols, ['scan_id', ...PROCESS_SNAPSHOT_COLUMNS]);
  db.close();
});

test('the published DaemonEye processes columns are all present', () => {
  const published = ['pid', 'ppid', 'name', 'executable_path', 'command_line', 'start_time', 'cpu_usage', 'memory_usage',
    'status', 'executable_hash', 'hash_algorithm', 'user_id', 'group_id', 'accessible', 'file_exists', 'collection_time', 'scan_id'];
  const db = openMemoryStore();
  const cols = new Set((db.prepare(`SELECT name FROM pragma_table_info('processes')`).all() as { name: string }[]).map((c) => c.name));
  for (const c of published) assert.ok(cols.has(c), `processes.${c}`);
  db.close();
});
