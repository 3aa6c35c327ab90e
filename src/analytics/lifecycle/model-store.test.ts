// Model versions in the store: save, load, rollback, pruning, and corrupt bundles that must give
// DE_ANALYTICS_CORRUPT and leave the stored rows as they were.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMemoryStore } from '../../store/open-store.ts';
import type { FeatureRow } from '../features/feature-row.ts';
import { FrequencyModel } from '../models/frequency-model.ts';
import { Ensemble } from '../models/ensemble.ts';
import { KEEP_VERSIONS, listVersions, loadActive, packBundle, rollback, saveVersion, type TrainedSet } from './model-store.ts';

function trained(seed: number): TrainedSet {
  const rows: FeatureRow[] = Array.from({ length: 2000 }, (_, i) => ({ numeric: {}, categorical: { executable_path: `/usr/bin/t${i % 7}` }, label: { day: String(i % 14) } }));
  const e = new Ensemble([new FrequencyModel('executable_path')], 0.8);
  e.fit(rows, { windowDays: 14, seed });
  return { bundle: packBundle(e.save()), models: e.status(), trainingRows: rows.length, excludedRows: 0, windowFrom: 0, windowTo: 1, seed, durationMs: 1 };
}

const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

test('versions: the newest is active, rollback re-activates the previous one, old ones are pruned', () => {
  const db = openMemoryStore();
  assert.equal(loadActive(db, 0.8), null, 'cold start');
  assert.throws(() => rollback(db), isCode('DE_ANALYTICS_NO_VERSION'));
  for (let i = 1; i <= KEEP_VERSIONS + 3; i++) assert.equal(saveVersion(db, trained(i), 'test'), i);
  const versions = listVersions(db);
  assert.equal(versions.length, KEEP_VERSIONS);
  assert.deepEqual(versions.filter((v) => v.status === 'active').map((v) => v.version), [KEEP_VERSIONS + 3]);
  const active = loadActive(db, 0.8)!;
  assert.equal(active.version, KEEP_VERSIONS + 3);
  assert.equal(active.ensemble.score([{ numeric: {}, categorical: { executable_path: '/tmp/new' }, label: {} }])[0]!.score > 0.3, true);
  assert.deepEqual(rollback(db), { from: KEEP_VERSIONS + 3, to: KEEP_VERSIONS + 2 });
  assert.deepEqual(rollback(db), { from: KEEP_VERSIONS + 2, to: KEEP_VERSIONS + 1 });
  assert.throws(() => rollback(db, KEEP_VERSIONS + 1), /already active/);
  assert.throws(() => rollback(db, 999), isCode('DE_ANALYTICS_NO_VERSION'));
  assert.deepEqual(rollback(db, KEEP_VERSIONS + 3), { from: KEEP_VERSIONS + 1, to: KEEP_VERSIONS + 3 });
  db.close();
});

test('a corrupt bundle gives DE_ANALYTICS_CORRUPT; rollback refuses it and changes nothing', () => {
  const db = openMemoryStore();
  saveVersion(db, trained(1), 'test');
  saveVersion(db, trained(2), 'test');
  for (const bad of [Buffer.from('not gzip'), packBundle({ format: 2 } as never), Buffer.alloc(0)]) {
    db.prepare('UPDATE analytics_model_versions SET bundle = ? WHERE version = 1').run(bad);
    assert.throws(() => rollback(db), isCode('DE_ANALYTICS_CORRUPT'));
    assert.deepEqual(listVersions(db).map((v) => v.status), ['active', 'inactive'], 'nothing changed');
  }
  db.prepare(`UPDATE analytics_model_versions SET bundle = ? WHERE version = 2`).run(packBundle({ format: 1, models: [{ kind: 'mystery', name: 'x', state: {} }] }));
  assert.throws(() => loadActive(db, 0.8), isCode('DE_ANALYTICS_CORRUPT'));
  db.close();
});
