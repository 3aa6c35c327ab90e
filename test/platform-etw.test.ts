// Windows ETW records -> the same event kinds and tables as the Linux eBPF layer, from recorded
// records whose fields follow the providers' manifests (test/fixtures/etw/README.md says where each
// comes from). The decoder and the store writer are the real ones; only the records are recorded.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDaemonEyeError } from '../src/errors/catalogue.ts';
import type { ConnectionEvent, ExecEvent, ExitEvent } from '../src/normalize/kernel-event.ts';
import { loadEtwAddon } from '../src/sources/etw/etw-addon.ts';
import { decodeEtwRecords, sidToUid, toDosPath, UNKNOWN_ID } from '../src/sources/etw/etw-decode.ts';
import { KernelEventWriter } from '../src/store/kernel-event-writer.ts';
import { openStoreForWriting } from '../src/store/open-store.ts';

const work = mkdtempSync(join(tmpdir(), 'de-etw-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** JSON has no u64: the fixtures write bigint values as "123n". */
function loadFixtures(): unknown[] {
  const text = readFileSync(join(import.meta.dirname, 'fixtures', 'etw', 'records.json'), 'utf8');
  return JSON.parse(text, (_k, v: unknown) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as unknown[];
}
const ctx = { dosDevices: { '\\Device\\HarddiskVolume3': 'C:', '\\Device\\HarddiskVolume1': 'D:' } };
const T0 = 1_795_000_000_123_456_700n; // the fixtures' base time, Unix ns

test('ProcessStart, ProcessStop, ImageLoad and TCP connect/accept map to our event kinds', () => {
  const d = decodeEtwRecords(loadFixtures(), ctx);
  const execs = d.events.filter((e): e is ExecEvent => e.kind === 'exec');
  const exits = d.events.filter((e): e is ExitEvent => e.kind === 'exit');
  const conns = d.events.filter((e): e is ConnectionEvent => e.kind === 'connection');

  assert.equal(execs.length, 2);
  const cmd = execs[0]!;
  assert.equal(cmd.pid, 7344);
  assert.equal(cmd.ppid, 5120);
  assert.equal(cmd.filename, 'C:\\Windows\\System32\\cmd.exe');
  assert.equal(cmd.comm, 'cmd.exe');
  assert.deepEqual(cmd.argv, ['C:\\Windows\\system32\\cmd.exe', '/c', 'whoami /all']);
  assert.equal(cmd.uid, 1001);
  assert.equal(cmd.ktimeNs, T0);
  assert.equal((cmd as { startNs?: bigint }).startNs, T0 - 1500n);
  assert.deepEqual(execs[1]!.argv, [], 'no command line is better than a guessed one');
  assert.equal(execs[1]!.ppid, 7344);
  assert.equal(d.commandLinesMissing, 1);

  assert.deepEqual(exits.map((e) => [e.pid, e.exitCode, e.comm]), [[7400, 0, 'whoami.exe'], [7344, 0xc0000005, 'cmd.exe']]);

  assert.deepEqual(d.security.map((s) => [s.op, s.targetPid, s.arg0, s.arg1, s.name, s.uid]), [
    ['image_load', 7400, 0x7ffb5a2c0000n, 0x1f8000n, 'C:\\Windows\\System32\\ntdll.dll', 1001],
    ['module_load', 0, 0xfffff8064b200000n, 0x9000n, '\\SystemRoot\\System32\\drivers\\rtcore64.sys', 18],
  ]);

  assert.deepEqual(conns.map((c) => [c.event, c.family, c.pid, c.localAddress, c.localPort, c.remoteAddress, c.remotePort, c.uid]), [
    ['connect', 4, 7344, '192.168.1.20', 51234, '93.184.216.34', 443, UNKNOWN_ID],
    ['accept', 4, 1136, '192.168.1.20', 3389, '10.0.0.5', 50111, UNKNOWN_ID],
    ['connect', 6, 7344, 'fe80::1c2d:3e4f:5a6b:7c8d', 51240, '2606:2800:220:1:248:1893:25c8:1946', 443, UNKNOWN_ID],
    ['accept', 6, 1136, '::ffff:192.168.1.20', 445, '::ffff:10.0.0.7', 50999, UNKNOWN_ID],
  ]);

  // The five bad or foreign records are counted by reason, and the good ones around them kept.
  assert.deepEqual(d.errors, { missing_field: 1, unknown_event: 1, unknown_provider: 1, bad_address: 1, bad_port: 1 });
});

test('decoded ETW events land in the same tables, with the same columns, as eBPF events', () => {
  const db = openStoreForWriting(join(work, 'daemoneye.db'));
  try {
    const d = decodeEtwRecords(loadFixtures(), ctx);
    const writer = new KernelEventWriter(db);
    const toEpochMs = (ns: bigint) => Number(ns / 1_000_000n); // Windows events carry Unix-epoch ns already
    writer.write(d.events, toEpochMs);
    writer.writeSecurity(d.security, toEpochMs);
    const exec = db.prepare(`SELECT pid, ppid, filename, command_line, argv, user_id, time FROM process_exec ORDER BY id`).all();
    assert.deepEqual(exec[0], {
      pid: 7344, ppid: 5120, filename: 'C:\\Windows\\System32\\cmd.exe', command_line: 'C:\\Windows\\system32\\cmd.exe /c whoami /all',
      argv: JSON.stringify(['C:\\Windows\\system32\\cmd.exe', '/c', 'whoami /all']), user_id: 1001, time: Number(T0 / 1_000_000n),
    });
    assert.deepEqual(db.prepare(`SELECT pid, exit_code FROM process_exit ORDER BY id`).all(), [{ pid: 7400, exit_code: 0 }, { pid: 7344, exit_code: 3221225477 }]);
    assert.deepEqual(db.prepare(`SELECT event, remote_address, remote_port FROM network_connections ORDER BY id`).all().map((r) => Object.values(r as object)), [
      ['connect', '93.184.216.34', 443], ['accept', '10.0.0.5', 50111], ['connect', '2606:2800:220:1:248:1893:25c8:1946', 443], ['accept', '::ffff:10.0.0.7', 50999],
    ]);
    const sec = db.prepare(`SELECT op, target_pid, name FROM process_security_events ORDER BY id`).all();
    assert.deepEqual(sec, [
      { op: 'image_load', target_pid: 7400, name: 'C:\\Windows\\System32\\ntdll.dll' },
      { op: 'module_load', target_pid: 0, name: '\\SystemRoot\\System32\\drivers\\rtcore64.sys' },
    ]);
  } finally {
    db.close();
  }
});

test('hostile records: every mutation of a fixture is decoded or counted, never thrown', () => {
  const base = loadFixtures().slice(0, 10) as Record<string, unknown>[];
  const junk: unknown[] = [null, 7, 'x', [], {}, -1n, 1e308, '\u0000'.repeat(5000), { a: { b: {} } }, true];
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const inputs: unknown[] = [...junk];
  for (let i = 0; i < 3000; i++) {
    const r = structuredClone(base[rand(base.length)]!) as Record<string, unknown>;
    const props = { ...(r['properties'] as Record<string, unknown>) };
    const keys = Object.keys(props);
    const k = keys[rand(keys.length)]!;
    const choice = rand(4);
    if (choice === 0) delete props[k];
    else props[k] = junk[rand(junk.length)];
    if (rand(5) === 0) r[['provider', 'eventId', 'timestamp', 'userSid', 'processId'][rand(5)]!] = junk[rand(junk.length)];
    r['properties'] = props;
    inputs.push(r);
  }
  const d = decodeEtwRecords(inputs, ctx);
  const counted = Object.values(d.errors).reduce((a, b) => a + b, 0);
  assert.equal(d.events.length + d.security.length + counted, inputs.length);
  assert.ok(counted > 0 && d.events.length > 0);
});

test("the agent's own events are left out, as on Linux", () => {
  const all = decodeEtwRecords(loadFixtures(), ctx);
  const without = decodeEtwRecords(loadFixtures(), { ...ctx, ignorePid: 7344 });
  // 7344: one exec, one exit and two connections are its own.
  assert.equal(without.ignored, 4);
  assert.equal(without.events.length, all.events.length - 4);
  assert.ok(without.events.every((e) => e.pid !== 7344));
  assert.equal(without.security.length, all.security.length);
});

test('SIDs, NT paths: the small conversions', () => {
  assert.equal(sidToUid('S-1-5-18'), 18);
  assert.equal(sidToUid('S-1-5-21-1-2-3-500'), 500);
  assert.equal(sidToUid(null), UNKNOWN_ID);
  assert.equal(sidToUid('S-1-5-21-1-2-3-99999999999'), UNKNOWN_ID);
  assert.equal(sidToUid('not a sid'), UNKNOWN_ID);
  assert.equal(toDosPath('\\Device\\HarddiskVolume3\\x\\y.exe', ctx.dosDevices), 'C:\\x\\y.exe');
  assert.equal(toDosPath('\\Device\\HarddiskVolume31\\y.exe', ctx.dosDevices), '\\Device\\HarddiskVolume31\\y.exe', 'a prefix of another device name is not that device');
  assert.equal(toDosPath('\\??\\C:\\y.exe', ctx.dosDevices), 'C:\\y.exe');
});

test('the ETW addon loader refuses other platforms and a missing build with DE_ETW_UNAVAILABLE', () => {
  assert.throws(() => loadEtwAddon(undefined, 'linux'), (e) => isDaemonEyeError(e, 'DE_ETW_UNAVAILABLE') && /Windows facility/.test(e.message));
  assert.throws(() => loadEtwAddon(join(work, 'nope.node'), 'win32'), (e) => isDaemonEyeError(e, 'DE_ETW_UNAVAILABLE') && /not built/.test(e.message));
});
