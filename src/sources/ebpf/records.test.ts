import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { decodeBatch, LAYOUT } from './records.ts';
import { ADDON_PATH, loadBpfAddon } from './native-addon.ts';

const H = LAYOUT.de_header.fields;

function header(kind: number, size: number, pid: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(kind, H.kind.offset);
  b.writeUInt32LE(size, H.size.offset);
  b.writeBigUInt64LE(123456789n, H.ktime_ns.offset);
  b.writeUInt32LE(pid, H.pid.offset);
  b.writeUInt32LE(pid, H.tid.offset);
  b.writeUInt32LE(1, H.ppid.offset);
  b.writeBigUInt64LE(2n ** 60n, H.cgroup_id.offset);
  b.write('sh', H.comm.offset);
  return b;
}

function execRecord(pid: number, filename: string, argv: string[], truncated = false): Buffer {
  const f = Buffer.from(filename);
  const a = Buffer.from(argv.map((s) => `${s}\0`).join(''));
  const b = header(LAYOUT.kinds.exec, LAYOUT.de_exec.size + f.length + a.length, pid);
  b.writeUInt32LE(f.length, LAYOUT.de_exec.fields.filename_len.offset);
  b.writeUInt32LE(a.length, LAYOUT.de_exec.fields.args_len.offset);
  b.writeUInt32LE(truncated ? 1 : 0, LAYOUT.de_exec.fields.args_truncated.offset);
  f.copy(b, LAYOUT.de_exec.fields.data.offset);
  a.copy(b, LAYOUT.de_exec.fields.data.offset + f.length);
  return b;
}

function exitRecord(pid: number, code: number, signal: number): Buffer {
  const b = header(LAYOUT.kinds.exit, LAYOUT.de_exit.size, pid);
  b.writeUInt32LE(code, LAYOUT.de_exit.fields.exit_code.offset);
  b.writeUInt32LE(signal, LAYOUT.de_exit.fields.signal.offset);
  return b;
}

function forkRecord(pid: number, child: number): Buffer {
  const b = header(LAYOUT.kinds.fork, LAYOUT.de_fork.size, pid);
  b.writeUInt32LE(child, LAYOUT.de_fork.fields.child_pid.offset);
  b.writeUInt32LE(child, LAYOUT.de_fork.fields.child_tid.offset);
  return b;
}

test('the C structs (addon.layout()) and the decoder LAYOUT agree', (t) => {
  if (!existsSync(ADDON_PATH)) return t.skip(`addon not built (${ADDON_PATH}); run scripts/build-native.sh`);
  // layout() only needs the .node loaded, not root; only the sizes/offsets are compared.
  assert.deepEqual(loadBpfAddon().layout(), LAYOUT);
});

test('decodes each kind from hand-built records', () => {
  const buf = Buffer.concat([
    execRecord(10, '/bin/true', ['true', 'a b', '']),
    forkRecord(10, 11),
    exitRecord(11, 7, 0),
  ]);
  const { events, errors } = decodeBatch(buf);
  assert.deepEqual(errors, {});
  assert.equal(events.length, 3);
  const [e, f, x] = events;
  assert.ok(e?.kind === 'exec');
  assert.equal(e.filename, '/bin/true');
  assert.deepEqual(e.argv, ['true', 'a b', '']);
  assert.equal(e.comm, 'sh');
  assert.equal(e.cgroupId, 2n ** 60n);
  assert.equal(e.ktimeNs, 123456789n);
  assert.ok(f?.kind === 'fork' && f.childPid === 11);
  assert.ok(x?.kind === 'exit' && x.exitCode === 7 && x.signal === 0);
});

test('bad records are counted by reason, never thrown', () => {
  const good = exitRecord(1, 0, 0);
  const unknown = header(99, 72, 1);
  const badExit = header(LAYOUT.kinds.exit, 80, 1);
  const r = decodeBatch(Buffer.concat([good, unknown, badExit, good, good.subarray(0, 30)]));
  assert.equal(r.events.length, 2);
  assert.deepEqual(r.errors, { bad_kind: 1, bad_size: 1, short_record: 1 });
  const lying = execRecord(1, '/x', ['x']);
  lying.writeUInt32LE(200, LAYOUT.de_exec.fields.args_len.offset);
  assert.deepEqual(decodeBatch(lying).errors, { bad_size: 1 });
  assert.deepEqual(decodeBatch(Buffer.concat([good, good])).errors, {});
  const tiny = header(1, 64, 1);
  tiny.writeUInt32LE(8, H.size.offset);
  assert.deepEqual(decodeBatch(tiny).errors, { bad_size: 1 });
});

test('fuzz: random, truncated and bit-flipped batches never throw', () => {
  const valid = Buffer.concat([execRecord(5, '/usr/bin/env', ['env', 'x=1']), forkRecord(5, 6), exitRecord(6, 1, 9)]);
  for (let i = 0; i < 5000; i++) {
    let buf: Buffer;
    switch (i % 3) {
      case 0:
        buf = randomBytes(Math.floor(Math.random() * 600));
        break;
      case 1:
        buf = valid.subarray(0, Math.floor(Math.random() * valid.length));
        break;
      default: {
        buf = Buffer.from(valid);
        for (let k = 0; k < 4; k++) buf[Math.floor(Math.random() * buf.length)] = Math.floor(Math.random() * 256);
      }
    }
    const r = decodeBatch(buf);
    assert.ok(Array.isArray(r.events));
    for (const n of Object.values(r.errors)) assert.ok(Number.isInteger(n) && n > 0);
    for (const k of Object.keys(r.errors)) assert.ok(['short_record', 'bad_kind', 'bad_size'].includes(k), k);
  }
});
