// Decoder for the raw records of native/bpf/records.h, one Buffer per batch from the addon.
// LAYOUT mirrors the C structs; records.test.ts compares it with addon.layout() (offsetof/sizeof in C),
// so a change on either side without the other fails a test instead of producing garbage fields.
// Bad input is counted by reason, never thrown: one malformed record must not kill the reader loop.

const field = (offset: number, size: number) => ({ offset, size }) as const;

export const LAYOUT = {
  de_header: {
    size: 64,
    fields: {
      kind: field(0, 4),
      size: field(4, 4),
      ktime_ns: field(8, 8),
      pid: field(16, 4),
      tid: field(20, 4),
      ppid: field(24, 4),
      uid: field(28, 4),
      gid: field(32, 4),
      euid: field(36, 4),
      cgroup_id: field(40, 8),
      comm: field(48, 16),
    },
  },
  de_exec: {
    size: 104,
    fields: {
      filename_len: field(64, 4),
      args_len: field(68, 4),
      args_truncated: field(72, 4),
      cwd_len: field(76, 4),
      start_boottime_ns: field(80, 8),
      cwd_truncated: field(88, 4),
      flags: field(92, 4),
      exe_mtime_sec: field(96, 8),
      data: field(104, 0),
    },
  },
  de_fork: { size: 72, fields: { child_pid: field(64, 4), child_tid: field(68, 4) } },
  de_exit: { size: 72, fields: { exit_code: field(64, 4), signal: field(68, 4) } },
  de_conn: {
    size: 104,
    fields: {
      family: field(64, 2),
      event: field(66, 2),
      sport: field(68, 2),
      dport: field(70, 2),
      saddr: field(72, 16),
      daddr: field(88, 16),
    },
  },
  de_sec: {
    size: 152,
    fields: {
      op: field(64, 4),
      target_pid: field(68, 4),
      arg0: field(72, 8),
      arg1: field(80, 8),
      name: field(88, 64),
    },
  },
  /** Append-only: a kind number is never reused. */
  kinds: { exec: 1, fork: 2, exit: 3, conn: 4, sec: 5 },
  filenameMax: 256,
  argsCap: 4096,
  cwdMax: 512,
} as const;

import type { ConnectionEvent, ExecEvent, ExitEvent, ForkEvent, KernelEvent, SecurityEvent } from '../../normalize/kernel-event.ts';

export type { ConnectionEvent, ExecEvent, ExitEvent, ForkEvent, KernelEvent, SecurityEvent } from '../../normalize/kernel-event.ts';

/** bad_field: a known kind of the right size with a value outside its enum (e.g. de_conn.family). */
export type DecodeError = 'short_record' | 'bad_kind' | 'bad_size' | 'bad_field';

/**
 * A security-relevant syscall (kind 5, tracefs syscall tracepoints), filtered in the kernel:
 * `ptrace_attach` (PTRACE_ATTACH/PTRACE_SEIZE; targetPid = tracee, arg0 = request), `module_load`
 * (name = module), `memfd_create` (name = memfd name, arg0 = flags), `mprotect_wx` / `mmap_wx`
 * (PROT_WRITE and PROT_EXEC both requested; arg0 = address, 0 for an mmap the kernel places; arg1 =
 * length). Recorded at syscall entry, so the call itself may still have failed.
 * TODO(lead): moves to src/normalize/kernel-event.ts.
 */

export interface DecodedBatch {
  readonly events: KernelEvent[];
  /** Kind-5 records, kept apart from `events` so KernelEvent consumers (agent, store) are unaffected. */
  readonly security: SecurityEvent[];
  readonly errors: Record<string, number>;
}

/** de_conn.family (the kernel's AF_INET / AF_INET6) and de_conn.event, as in records.h. */
export const AF_INET = 2;
export const AF_INET6 = 10;
const CONN_EVENTS = { 1: 'connect', 2: 'accept', 3: 'listen' } as const;
/** de_sec.op, as in records.h (DE_SEC_*). */
const SEC_OPS = { 1: 'ptrace_attach', 2: 'module_load', 3: 'memfd_create', 4: 'mprotect_wx', 5: 'mmap_wx' } as const;

const H = LAYOUT.de_header.fields;
const X = LAYOUT.de_exec.fields;
const C = LAYOUT.de_conn.fields;
const S = LAYOUT.de_sec.fields;
const K = LAYOUT.kinds;

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

/** The event an exec, fork, ... record becomes, while its kind's own fields are filled in. */
type Building<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The header fields, in an object of the record's kind that decodeOne completes. Not a spread of a
 * header object into each kind's literal: at thousands of records a second, copying the header's
 * properties was a third of decoding.
 */
function header<T extends KernelEvent | SecurityEvent>(buf: Buffer, o: number, kind: T['kind']): Building<T> {
  return {
    kind,
    pid: buf.readUInt32LE(o + H.pid.offset),
    tid: buf.readUInt32LE(o + H.tid.offset),
    ppid: buf.readUInt32LE(o + H.ppid.offset),
    uid: buf.readUInt32LE(o + H.uid.offset),
    gid: buf.readUInt32LE(o + H.gid.offset),
    euid: buf.readUInt32LE(o + H.euid.offset),
    cgroupId: buf.readBigUInt64LE(o + H.cgroup_id.offset),
    comm: cString(buf, o + H.comm.offset, H.comm.size),
    ktimeNs: buf.readBigUInt64LE(o + H.ktime_ns.offset),
  } as Building<T>;
}

/** argv bytes are the NUL-separated strings of mm->arg_start..arg_end, each normally NUL-terminated. */
function splitArgv(buf: Buffer, start: number, len: number): string[] {
  if (len === 0) return [];
  const s = buf.toString('utf8', start, start + len);
  const parts = s.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Dotted quad of 4 bytes in network order. */
function formatIPv4(buf: Buffer, o: number): string {
  return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
}

/**
 * RFC 5952 text of 16 bytes in network order: lowercase hex without leading zeros, the longest run
 * of two or more zero groups (the first on a tie) as `::`, and IPv4-mapped addresses (::ffff:0:0/96,
 * which a dual-stack socket reports for IPv4 peers) in mixed notation as §5 recommends.
 */
export function formatIPv6(buf: Buffer, o = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(o + 2 * i));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, o + 12)}`;
  }
  let best = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best === -1) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** de_exec.flags bit: details read from /proc after the event (netlink fallback), not by the kernel hook. */
export const EXEC_DEGRADED = 1;

/**
 * The kernel walks the working directory upward, so components arrive innermost first, each ending
 * in NUL ("tmp\0user\0home\0" is /home/user/tmp). A path cut short by the depth or length cap is
 * shown with a leading ".../" so nobody mistakes it for a path from the root.
 */
export function joinCwd(buf: Buffer, at: number, len: number, truncated: boolean): string | null {
  if (len === 0) return truncated ? null : '/';
  const parts = buf.toString('utf8', at, at + len).split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  parts.reverse();
  return (truncated ? '.../' : '/') + parts.join('/');
}

function decodeOne(buf: Buffer, o: number, kind: number, size: number): KernelEvent | SecurityEvent | DecodeError {
  switch (kind) {
    case K.exec: {
      if (size < LAYOUT.de_exec.size) return 'bad_size';
      const flen = buf.readUInt32LE(o + X.filename_len.offset);
      const alen = buf.readUInt32LE(o + X.args_len.offset);
      const clen = buf.readUInt32LE(o + X.cwd_len.offset);
      if (flen > LAYOUT.filenameMax || alen > LAYOUT.argsCap || clen > LAYOUT.cwdMax || LAYOUT.de_exec.size + flen + alen + clen !== size) {
        return 'bad_size';
      }
      const data = o + X.data.offset;
      const e = header<ExecEvent>(buf, o, 'exec');
      e.filename = buf.toString('utf8', data, data + flen);
      e.argv = splitArgv(buf, data + flen, alen);
      e.argsTruncated = buf.readUInt32LE(o + X.args_truncated.offset) !== 0;
      e.cwd = joinCwd(buf, data + flen + alen, clen, buf.readUInt32LE(o + X.cwd_truncated.offset) !== 0);
      e.startNs = buf.readBigUInt64LE(o + X.start_boottime_ns.offset);
      e.exeMtimeSec = Number(buf.readBigInt64LE(o + X.exe_mtime_sec.offset));
      if ((buf.readUInt32LE(o + X.flags.offset) & EXEC_DEGRADED) !== 0) e.degraded = true;
      return e;
    }
    case K.fork:
    {
      if (size !== LAYOUT.de_fork.size) return 'bad_size';
      const e = header<ForkEvent>(buf, o, 'fork');
      e.childPid = buf.readUInt32LE(o + LAYOUT.de_fork.fields.child_pid.offset);
      e.childTid = buf.readUInt32LE(o + LAYOUT.de_fork.fields.child_tid.offset);
      return e;
    }
    case K.exit:
    {
      if (size !== LAYOUT.de_exit.size) return 'bad_size';
      const e = header<ExitEvent>(buf, o, 'exit');
      e.exitCode = buf.readUInt32LE(o + LAYOUT.de_exit.fields.exit_code.offset);
      e.signal = buf.readUInt32LE(o + LAYOUT.de_exit.fields.signal.offset);
      return e;
    }
    case K.conn: {
      if (size !== LAYOUT.de_conn.size) return 'bad_size';
      const af = buf.readUInt16LE(o + C.family.offset);
      const event = CONN_EVENTS[buf.readUInt16LE(o + C.event.offset) as keyof typeof CONN_EVENTS];
      if ((af !== AF_INET && af !== AF_INET6) || event === undefined) return 'bad_field';
      const addr = af === AF_INET ? formatIPv4 : formatIPv6;
      const e = header<ConnectionEvent>(buf, o, 'connection');
      e.event = event;
      e.family = af === AF_INET ? 4 : 6;
      e.localAddress = addr(buf, o + C.saddr.offset);
      e.localPort = buf.readUInt16LE(o + C.sport.offset);
      e.remoteAddress = addr(buf, o + C.daddr.offset);
      e.remotePort = buf.readUInt16LE(o + C.dport.offset);
      return e;
    }
    case K.sec: {
      if (size !== LAYOUT.de_sec.size) return 'bad_size';
      const op = SEC_OPS[buf.readUInt32LE(o + S.op.offset) as keyof typeof SEC_OPS];
      if (op === undefined) return 'bad_field';
      const e = header<SecurityEvent>(buf, o, 'security');
      e.op = op;
      e.targetPid = buf.readUInt32LE(o + S.target_pid.offset);
      e.arg0 = buf.readBigUInt64LE(o + S.arg0.offset);
      e.arg1 = buf.readBigUInt64LE(o + S.arg1.offset);
      e.name = cString(buf, o + S.name.offset, S.name.size);
      return e;
    }
    default:
      return 'bad_kind';
  }
}

/**
 * Walks a batch record by record using each header's `size`. A record whose size cannot be trusted
 * (shorter than a header, or past the end) ends the walk, since nothing after it can be located;
 * a record of unknown kind or inconsistent lengths is skipped and counted.
 */
export function decodeBatch(buf: Buffer): DecodedBatch {
  const events: KernelEvent[] = [];
  const security: SecurityEvent[] = [];
  const errors: Record<string, number> = {};
  const count = (reason: DecodeError) => {
    errors[reason] = (errors[reason] ?? 0) + 1;
  };
  let o = 0;
  while (o < buf.length) {
    const left = buf.length - o;
    if (left < LAYOUT.de_header.size) {
      count('short_record');
      break;
    }
    const kind = buf.readUInt32LE(o + H.kind.offset);
    const size = buf.readUInt32LE(o + H.size.offset);
    if (size < LAYOUT.de_header.size) {
      count('bad_size');
      break;
    }
    if (size > left) {
      count('short_record');
      break;
    }
    const ev = decodeOne(buf, o, kind, size);
    if (typeof ev === 'string') count(ev);
    else if (ev.kind === 'security') security.push(ev);
    else events.push(ev);
    o += size;
  }
  return { events, security, errors };
}
