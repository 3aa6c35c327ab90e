import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Alert } from '../alerts/alert.ts';
import { JsonlFileSink } from './jsonl-file-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-jsonl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const alert = (id: number): Alert => ({
  alert_id: id, alert_uuid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, rule_id: 'R-1', rule_name: 'r', rule_version: 1,
  severity: 'low', attack_ids: ['T1059'], tags: [], host: 'h', summary: 'line\nbreak "quoted"', dedup_key: String(id), pid: id,
  process_name: 'p', executable_path: '/x', command_line: 'x'.repeat(200), process_start: null, first_seen: '', last_seen: '',
  occurrences: 1, cleared_at: null, triage_status: 'open', scan_id: 1, evidence: {},
});

test('each alert is one parseable line, appended across deliveries', async () => {
  const path = join(dir, 'a', 'alerts.jsonl');
  const sink = new JsonlFileSink(path);
  await sink.deliver([alert(1), alert(2)]);
  await sink.deliver([alert(3)]);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as Alert).alert_id), [1, 2, 3]);
  assert.equal((JSON.parse(lines[0]!) as Alert).summary, 'line\nbreak "quoted"');
});

test('size-based rotation keeps whole lines, shifts files and drops the oldest', async () => {
  const path = join(dir, 'rot', 'alerts.jsonl');
  const sink = new JsonlFileSink(path, { maxBytes: 2000, keep: 2 });
  for (let i = 1; i <= 20; i++) await sink.deliver([alert(i)]);
  const files = readdirSync(join(dir, 'rot')).sort();
  assert.deepEqual(files, ['alerts.jsonl', 'alerts.jsonl.1', 'alerts.jsonl.2']);
  const ids = (f: string) => readFileSync(join(dir, 'rot', f), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as Alert).alert_id);
  for (const f of files) assert.ok(readFileSync(join(dir, 'rot', f)).length <= 2000, `${f} within the limit`);
  const newest = ids('alerts.jsonl');
  assert.equal(newest[newest.length - 1], 20);
  assert.equal(ids('alerts.jsonl.1').at(-1)! + 1, newest[0], 'no alert lost between the live file and .1');
  assert.equal(ids('alerts.jsonl.2').at(-1)! + 1, ids('alerts.jsonl.1')[0]);
  assert.equal(existsSync(`${path}.3`), false);
});
