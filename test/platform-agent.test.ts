// The agent's kernel layers for Windows and macOS, as the agent builds them: the macOS layer runs the
// eslogger client and its store worker end to end into a real SQLite store (eslogger itself is
// replaced, at the other end of the pipe only, by a script printing eslogger's JSON lines, since this
// is Linux); the Windows layer must refuse cleanly here and say why.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { EsKernelEvents } from '../src/agent/kernel-events.darwin.ts';
import { EtwKernelEvents } from '../src/agent/kernel-events.windows.ts';
import { createLogger } from '../src/agent/logger.ts';
import { kernelLayerWanted } from '../src/agent/platform-kernel-events.ts';
import { configSchema } from '../src/config/schema.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';
import type { ProcessSnapshot } from '../src/normalize/process-snapshot.ts';

const work = mkdtempSync(join(tmpdir(), 'de-platform-agent-'));
after(() => rmSync(work, { recursive: true, force: true }));
const FIXTURE = join(import.meta.dirname, 'fixtures', 'eslogger', 'events.jsonl');
const kernel = configSchema.parse({}).enterprise.kernel_monitoring;

function capture() {
  let text = '';
  const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return { log: createLogger('debug', out), text: () => text };
}

function newStore(name: string): string {
  const path = join(work, name);
  openStoreForWriting(path).close();
  return path;
}

test('macOS layer: eslogger lines reach process_exec/fork/exit and process_security_events through the store worker, with ancestry', async () => {
  const dbPath = newStore('darwin.db');
  const script = join(work, 'eslogger');
  writeFileSync(script, `#!${process.execPath}\nprocess.stdout.write(require('node:fs').readFileSync(${JSON.stringify(FIXTURE)}));\nsetInterval(() => {}, 1000);\n`);
  chmodSync(script, 0o755);
  const { log, text } = capture();
  let stored = 0;
  const layer = new EsKernelEvents(dbPath, log, kernel, () => stored++, { host: { platform: 'darwin', release: '23.4.0', uid: 0 }, esloggerPath: script });
  await layer.start();
  assert.equal(layer.status.layer, 'endpoint_security');
  // The scan's view of the process table seeds the tree: the exec's ancestry comes from it.
  layer.seed([{ pid: 4700, ppid: 4650, name: 'zsh', executable_path: '/bin/zsh' }, { pid: 4650, ppid: 1, name: 'Terminal', executable_path: '/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal' }] as ProcessSnapshot[]);
  const db = new Database(dbPath, { readonly: true });
  let counters: Record<string, number> = {};
  try {
    // kernel_events counts what the worker reported committed: all 7 decodable lines.
    for (let i = 0; i < 400 && (layer.counters['kernel_events'] ?? 0) < 7; i++) await new Promise((r) => setTimeout(r, 25));
    counters = { ...layer.counters };
    await layer.stop();
    assert.deepEqual(db.prepare('SELECT pid, filename FROM process_exec ORDER BY id').all(), [
      { pid: 4711, filename: '/usr/bin/curl' }, { pid: 4730, filename: '/usr/bin/python3' }, { pid: 4740, filename: '/bin/ls' },
    ]);
    assert.equal((db.prepare('SELECT count(*) AS n FROM process_fork').get() as { n: number }).n, 1);
    assert.deepEqual(db.prepare('SELECT op, target_pid FROM process_security_events').all(), [{ op: 'signal', target_pid: 4720 }]);
    const chain = JSON.parse((db.prepare('SELECT ancestry FROM process_exec WHERE pid = 4711').get() as { ancestry: string }).ancestry) as { pid: number }[];
    assert.deepEqual(chain.map((a) => a.pid), [4700, 4650, 1]);
  } finally {
    db.close();
  }
  assert.ok(stored > 0, 'the agent is told after each stored batch (its kernel rules run then)');
  assert.match(text(), /kernel events active layer="endpoint_security" client="com\.daemoneye\.monitor" eslogger_pid=\d+/);
  assert.equal(counters['es_events'], 7);
  assert.equal(counters['decode_errors.malformed_json'], 1);
  assert.equal(counters['kernel_events'], 7);
  assert.equal(counters['kernel_decode_errors'], 6, 'the six bad lines, summed for the run command');
});

test('macOS layer: an eslogger that dies is restarted with backoff and nothing it printed is lost', async () => {
  const dbPath = newStore('restart.db');
  const state = join(work, 'runs');
  const script = join(work, 'eslogger-dies-once');
  // First run: one line, then dies as if killed. Second run: the rest, and keeps running.
  writeFileSync(script, `#!${process.execPath}
const fs = require('node:fs');
const lines = fs.readFileSync(${JSON.stringify(FIXTURE)}, 'utf8').split('\\n').filter(Boolean);
const first = !fs.existsSync(${JSON.stringify(state)});
fs.writeFileSync(${JSON.stringify(state)}, 'x');
if (first) { process.stdout.write(lines[0] + '\\n', () => { process.stderr.write('eslogger: terminated\\n'); process.exit(70); }); }
else { process.stdout.write(lines.slice(1).join('\\n') + '\\n'); setInterval(() => {}, 1000); }
`);
  chmodSync(script, 0o755);
  const { log, text } = capture();
  const layer = new EsKernelEvents(dbPath, log, kernel, () => {}, { host: { platform: 'darwin', release: '24.1.0', uid: 0 }, esloggerPath: script, restartDelaysMs: [20] });
  await layer.start();
  for (let i = 0; i < 400 && (layer.counters['kernel_events'] ?? 0) < 7; i++) await new Promise((r) => setTimeout(r, 25));
  const counters = { ...layer.counters };
  await layer.stop();
  assert.equal(counters['kernel_events'], 7, 'the line before the death and the six after the restart');
  assert.equal(counters['es_restarts'], 1);
  assert.match(text(), /EndpointSecurity client stopped; restarting it client="com\.daemoneye\.monitor" code="DE_ES_EXITED" .*exit status 70.*retry_in_ms=20/);
  assert.match(text(), /EndpointSecurity client restarted .*restarts=1/);
});

test('macOS layer on macOS 12: a clear refusal with a hint, and the agent keeps to scans', async () => {
  const { log, text } = capture();
  const layer = new EsKernelEvents(newStore('old.db'), log, kernel, () => {}, { host: { platform: 'darwin', release: '21.6.0', uid: 0 } });
  await layer.start();
  assert.equal(layer.status.layer, 'scans');
  assert.match(layer.status.reason, /^DE_ES_OS_VERSION: .*older than macOS 13/);
  assert.match(text(), /kernel events unavailable; using scans only client="com\.daemoneye\.monitor" .*hint="upgrade to macOS 13/);
});

test('Windows layer on this Linux host: DE_ETW_UNAVAILABLE, scans continue', async () => {
  const { log, text } = capture();
  const layer = new EtwKernelEvents(newStore('win.db'), log, kernel);
  await layer.start();
  assert.equal(layer.status.layer, 'scans');
  assert.match(layer.status.reason, /^DE_ETW_UNAVAILABLE: ETW is a Windows facility; this is linux/);
  assert.match(text(), /kernel events unavailable; using scans only reason="DE_ETW_UNAVAILABLE/);
});

test('the flag that turns the kernel layer on is the platform\'s own', () => {
  const k = { ...kernel, enable_ebpf: false, enable_etw: true, enable_endpoint_security: false };
  assert.equal(kernelLayerWanted(k, 'win32'), true);
  assert.equal(kernelLayerWanted(k, 'darwin'), false);
  assert.equal(kernelLayerWanted(k, 'linux'), false);
  assert.equal(kernelLayerWanted({ ...k, enable_endpoint_security: true }, 'darwin'), true);
});
