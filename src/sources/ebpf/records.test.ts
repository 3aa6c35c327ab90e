import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { AF_INET, AF_INET6, decodeBatch, formatIPv6, LAYOUT } from './records.ts';
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

function execRecord(pid: number, filename: string, argv: string[], truncated = false, cwdInnermostFirst: string[] = ['tmp'], cwdTruncated = false): Buffer {
  const f = Buffer.from(filename);
  const a = Buffer.from(argv.map((s) => `${s}\0`).join(''));
  const c = Buffer.from(cwdInnermostFirst.map((s) => `${s}\0`).join(''));
  const b = header(LAYOUT.kinds.exec, LAYOUT.de_exec.size + f.length + a.length + c.length, pid);
  b.writeUInt32LE(f.length, LAYOUT.de_exec.fields.filename_len.offset);
  b.writeUInt32LE(a.length, LAYOUT.de_exec.fields.args_len.offset);
  b.writeUInt32LE(truncated ? 1 : 0, LAYOUT.de_exec.fields.args_truncated.offset);
  b.writeUInt32LE(c.length, LAYOUT.de_exec.fields.cwd_len.offset);
  b.writeBigUInt64LE(99n, LAYOUT.de_exec.fields.start_boottime_ns.offset);
  b.writeUInt32LE(cwdTruncated ? 1 : 0, LAYOUT.de_exec.fields.cwd_truncated.offset);
  f.copy(b, LAYOUT.de_exec.fields.data.offset);
  a.copy(b, LAYOUT.de_exec.fields.data.offset + f.length);
  c.copy(b, LAYOUT.de_exec.fields.data.offset + f.length + a.length);
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

const SF = LAYOUT.de_sec.fields;

function secRecord(pid: number, op: number, target: number, arg0: bigint, arg1: bigint, name: string): Buffer {
  const b = header(LAYOUT.kinds.sec, LAYOUT.de_sec.size, pid);
  b.writeUInt32LE(op, SF.op.offset);
  b.writeUInt32LE(target, SF.target_pid.offset);
  b.writeBigUInt64LE(arg0, SF.arg0.offset);
  b.writeBigUInt64LE(arg1, SF.arg1.offset);
  b.write(name, SF.name.offset, SF.name.size);
  return b;
}

const CF = LAYOUT.de_conn.fields;

/** event: 1 connect, 2 accept, 3 listen. Addresses as text; IPv6 through the URL parser. */
function connRecord(pid: number, event: number, family: number, saddr: string, sport: number, daddr: string, dport: number): Buffer {
  const b = header(LAYOUT.kinds.conn, LAYOUT.de_conn.size, pid);
  b.writeUInt16LE(family, CF.family.offset);
  b.writeUInt16LE(event, CF.event.offset);
  b.writeUInt16LE(sport, CF.sport.offset);
  b.writeUInt16LE(dport, CF.dport.offset);
  const put = (a: string, at: number) => {
    if (family === AF_INET) for (const [i, x] of a.split('.').entries()) b[at + i] = Number(x);
    else ipv6Bytes(a).copy(b, at);
  };
  put(saddr, CF.saddr.offset);
  put(daddr, CF.daddr.offset);
  return b;
}

/** Parses IPv6 text (with :: and an optional dotted tail) into 16 bytes, independently of formatIPv6. */
function ipv6Bytes(text: string): Buffer {
  let t = text;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    t = `${t.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = t.split('::') as [string, string | undefined];
  const hs = head === '' ? [] : head.split(':');
  const ts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
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
  assert.equal(e.cwd, '/tmp');
  assert.equal(e.startNs, 99n);
  assert.equal(e.comm, 'sh');
  assert.equal(e.cgroupId, 2n ** 60n);
  assert.equal(e.ktimeNs, 123456789n);
  assert.ok(f?.kind === 'fork' && f.childPid === 11);
  assert.ok(x?.kind === 'exit' && x.exitCode === 7 && x.signal === 0);
});

test('the working directory arrives innermost first and is rebuilt from the root; a cut path says so', () => {
  const deep = decodeBatch(execRecord(1, '/bin/x', ['x'], false, ['c', 'b', 'a'])).events[0];
  assert.ok(deep?.kind === 'exec' && deep.cwd === '/a/b/c');
  const root = decodeBatch(execRecord(1, '/bin/x', ['x'], false, [])).events[0];
  assert.ok(root?.kind === 'exec' && root.cwd === '/');
  const cut = decodeBatch(execRecord(1, '/bin/x', ['x'], false, ['c', 'b'], true)).events[0];
  assert.ok(cut?.kind === 'exec' && cut.cwd === '.../b/c');
});

test('decodes connection records (kind 4): IPv4, IPv6, IPv4-mapped; accept has no process', () => {
  const acc = connRecord(0, 2, AF_INET, '127.0.0.1', 8080, '10.1.2.3', 51000);
  acc.fill(0, H.pid.offset, H.comm.offset + H.comm.size);
  const buf = Buffer.concat([
    connRecord(10, 3, AF_INET, '127.0.0.1', 8080, '0.0.0.0', 0),
    connRecord(10, 1, AF_INET6, '2001:db8::1', 40000, 'fe80::1:0:0:2', 443),
    acc,
    connRecord(10, 1, AF_INET6, '::ffff:192.168.0.1', 1, '::', 65535),
  ]);
  const { events, errors } = decodeBatch(buf);
  assert.deepEqual(errors, {});
  assert.deepEqual(
    events.map((e) => (e.kind === 'connection' ? [e.event, e.family, e.localAddress, e.localPort, e.remoteAddress, e.remotePort] : e.kind)),
    [
      ['listen', 4, '127.0.0.1', 8080, '0.0.0.0', 0],
      ['connect', 6, '2001:db8::1', 40000, 'fe80::1:0:0:2', 443],
      ['accept', 4, '127.0.0.1', 8080, '10.1.2.3', 51000],
      ['connect', 6, '::ffff:192.168.0.1', 1, '::', 65535],
    ],
  );
  const [l, , a] = events;
  assert.ok(l?.kind === 'connection' && l.pid === 10 && l.comm === 'sh' && l.ktimeNs === 123456789n);
  assert.ok(a?.kind === 'connection' && a.pid === 0 && a.tid === 0 && a.ppid === 0 && a.uid === 0 && a.comm === '' && a.cgroupId === 0n);
});

test('decodes security records (kind 5) into DecodedBatch.security, apart from events', () => {
  const buf = Buffer.concat([
    secRecord(10, 1, 42, 0x4206n, 0n, ''),
    exitRecord(11, 0, 0),
    secRecord(10, 2, 0, 0n, 0n, 'nf_tables'),
    secRecord(10, 3, 0, 1n, 0n, 'x'.repeat(64)), // full 64 bytes, no NUL
    secRecord(10, 4, 0, 0x7f0000001000n, 4096n, ''),
    secRecord(10, 5, 0, 0n, 2n ** 63n, ''),
  ]);
  const { events, security, errors } = decodeBatch(buf);
  assert.deepEqual(errors, {});
  assert.deepEqual(events.map((e) => e.kind), ['exit']);
  assert.deepEqual(
    security.map((e) => [e.kind, e.op, e.targetPid, e.arg0, e.arg1, e.name, e.pid, e.comm]),
    [
      ['security', 'ptrace_attach', 42, 0x4206n, 0n, '', 10, 'sh'],
      ['security', 'module_load', 0, 0n, 0n, 'nf_tables', 10, 'sh'],
      ['security', 'memfd_create', 0, 1n, 0n, 'x'.repeat(64), 10, 'sh'],
      ['security', 'mprotect_wx', 0, 0x7f0000001000n, 4096n, '', 10, 'sh'],
      ['security', 'mmap_wx', 0, 0n, 2n ** 63n, '', 10, 'sh'],
    ],
  );
  const short = header(LAYOUT.kinds.sec, LAYOUT.de_sec.size - 8, 1);
  assert.deepEqual(decodeBatch(Buffer.concat([short, secRecord(1, 9, 0, 0n, 0n, ''), secRecord(1, 0, 0, 0n, 0n, '')])).errors, { bad_size: 1, bad_field: 2 });
});

test('formatIPv6 follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs
    ['2001:DB8:0:0:0:0:0:0', '2001:db8::'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'],
    ['0:0:0:0:0:fffe:7f00:1', '::fffe:7f00:1'],
  ];
  for (const [full, want] of cases) assert.equal(formatIPv6(ipv6Bytes(full)), want, full);
  // Random addresses (zero-heavy so runs occur) against the WHATWG URL serializer, which applies
  // the same compression rule; it writes mapped addresses in hex, so those are skipped.
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(16);
    for (let k = 0; k < 16; k += 2) if (Math.random() < 0.5) b.writeUInt16BE(0, k);
    const text = formatIPv6(b);
    assert.ok(isIPv6(text), text);
    assert.deepEqual(ipv6Bytes(text), b, text);
    if (!text.startsWith('::ffff:') || text.includes(':', 7)) {
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
    }
  }
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
  const shortConn = header(LAYOUT.kinds.conn, LAYOUT.de_conn.size - 8, 1);
  const badFamily = connRecord(1, 1, 7, '1.2.3.4', 1, '1.2.3.4', 2);
  const badEvent = connRecord(1, 9, AF_INET, '1.2.3.4', 1, '1.2.3.4', 2);
  assert.deepEqual(decodeBatch(Buffer.concat([shortConn, badFamily, badEvent, good])).errors, { bad_size: 1, bad_field: 2 });
  const tiny = header(1, 64, 1);
  tiny.writeUInt32LE(8, H.size.offset);
  assert.deepEqual(decodeBatch(tiny).errors, { bad_size: 1 });
});

test('fuzz: random, truncated and bit-flipped batches never throw', () => {
  const valid = Buffer.concat([
    execRecord(5, '/usr/bin/env', ['env', 'x=1']),
    connRecord(5, 1, AF_INET, '10.0.0.1', 40000, '10.0.0.2', 22),
    forkRecord(5, 6),
    connRecord(6, 2, AF_INET6, '::1', 22, '::ffff:10.0.0.3', 40001),
    exitRecord(6, 1, 9),
    secRecord(6, 3, 0, 0n, 0n, 'memfd:x'),
  ]);
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
    for (const e of r.events) {
      if (e.kind !== 'connection') continue;
      assert.ok(['connect', 'accept', 'listen'].includes(e.event) && (e.family === 4 || e.family === 6));
      for (const a of [e.localAddress, e.remoteAddress]) assert.ok(e.family === 4 ? /^\d+\.\d+\.\d+\.\d+$/.test(a) : isIPv6(a), a);
      assert.ok(e.localPort >= 0 && e.localPort <= 65535 && e.remotePort >= 0 && e.remotePort <= 65535);
    }
    for (const e of r.security) assert.ok(['ptrace_attach', 'module_load', 'memfd_create', 'mprotect_wx', 'mmap_wx'].includes(e.op) && e.name.length <= 64);
    for (const n of Object.values(r.errors)) assert.ok(Number.isInteger(n) && n > 0);
    for (const k of Object.keys(r.errors)) assert.ok(['short_record', 'bad_kind', 'bad_size', 'bad_field'].includes(k), k);
  }
});
