// ETW records -> our event kinds, so Windows fills the same tables as the Linux eBPF layer:
//   Kernel-Process 1 ProcessStart -> ExecEvent (process_exec)   2 ProcessStop -> ExitEvent (process_exit)
//   Kernel-Process 5 ImageLoad    -> SecurityEvent op image_load (process_security_events); a kernel-mode
//       image (a driver) is op module_load, the same meaning as a Linux kernel module load
//   Kernel-Network 12/28 TCP connect, 15/31 TCP accept -> ConnectionEvent (network_connections)
// Bad records are counted by reason and skipped; nothing here throws on input.
import type { ConnectionEvent, ExecEvent, ExitEvent, KernelEvent, SecurityEvent } from '../../normalize/kernel-event.ts';
import { formatIPv6 } from '../ebpf/records.ts';
import { COMMAND_LINE_PROPERTY, filetimeToEpochNs, KERNEL_NETWORK, KERNEL_PROCESS, NETWORK_EVENTS, PROCESS_EVENTS, type EtwRecord, type EtwValue } from './etw-record.ts';
import { splitWindowsCommandLine } from './windows-command-line.ts';

/** Windows has SIDs, not uids: our uid is the SID's last sub-authority (its RID: 18 = SYSTEM,
 * 500 = Administrator, 1001 = a local user); unknown is (uid_t)-1, never 0, so no Linux rule
 * written for root matches a user we could not identify. */
export const UNKNOWN_ID = 0xffff_ffff;

/** x64 kernel space starts here: an image mapped above it is a driver, not a DLL. */
const KERNEL_SPACE = 0xffff_8000_0000_0000n;

export interface EtwDecodeContext {
  /** NT device -> drive letter, from the addon's dosDevices() (\Device\HarddiskVolume3 -> C:). */
  readonly dosDevices: Readonly<Record<string, string>>;
  /** The agent's own pid: its image loads and connections are not what anyone monitors (as on Linux). */
  readonly ignorePid?: number;
}

export interface EtwDecoded {
  readonly events: KernelEvent[];
  readonly security: SecurityEvent[];
  /** decode errors by reason, e.g. { missing_field: 2 } */
  readonly errors: Record<string, number>;
  /** ProcessStart records without a command line (the process was gone before it could be read). */
  readonly commandLinesMissing: number;
  /** Events of the agent itself (ctx.ignorePid), left out. */
  readonly ignored: number;
}

class Bad extends Error {}

export function sidToUid(sid: string | null): number {
  if (sid === null) return UNKNOWN_ID;
  const m = /^S-1-\d+(?:-(\d+))+$/.exec(sid);
  if (m === null) return UNKNOWN_ID;
  const rid = Number(m[1]);
  return Number.isSafeInteger(rid) && rid <= UNKNOWN_ID ? rid : UNKNOWN_ID;
}

/** \Device\HarddiskVolume3\Windows\x.exe -> C:\Windows\x.exe; \??\C:\x -> C:\x; otherwise unchanged. */
export function toDosPath(path: string, dosDevices: Readonly<Record<string, string>>): string {
  if (path.startsWith('\\??\\')) return path.slice(4);
  for (const [device, drive] of Object.entries(dosDevices)) {
    if (path.length > device.length && path.startsWith(device) && path[device.length] === '\\') return drive + path.slice(device.length);
  }
  return path;
}

export function baseName(path: string): string {
  const at = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return at >= 0 ? path.slice(at + 1) : path;
}

function u32(p: Readonly<Record<string, EtwValue>>, name: string): number {
  const v = p[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UNKNOWN_ID) throw new Bad('missing_field');
  return v;
}

function u64(p: Readonly<Record<string, EtwValue>>, name: string): bigint {
  const v = p[name];
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw new Bad('missing_field');
}

function str(p: Readonly<Record<string, EtwValue>>, name: string, fallback?: string): string {
  const v = p[name];
  if (typeof v === 'string') return v;
  if (fallback !== undefined) return fallback;
  throw new Bad('missing_field');
}

/** win:Port: a UInt16 in network byte order, read by TDH as little-endian. */
function port(raw: number): number {
  if (raw > 0xffff) throw new Bad('bad_port');
  return ((raw & 0xff) << 8) | (raw >> 8);
}

/** win:IPv4: the 4 address bytes in network order, read as a little-endian UInt32. */
function ipv4(raw: number): string {
  return `${raw & 0xff}.${(raw >>> 8) & 0xff}.${(raw >>> 16) & 0xff}.${raw >>> 24}`;
}

/** IPv6 arrives as win:Binary, 16 bytes, hex. */
function ipv6(hex: EtwValue | undefined): string {
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) throw new Bad('bad_address');
  return formatIPv6(Buffer.from(hex, 'hex'));
}

function isRecord(r: unknown): r is EtwRecord {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return typeof x['provider'] === 'string' && typeof x['eventId'] === 'number' && typeof x['timestamp'] === 'bigint'
    && typeof x['processId'] === 'number' && typeof x['threadId'] === 'number'
    && (x['userSid'] === null || typeof x['userSid'] === 'string') && typeof x['properties'] === 'object' && x['properties'] !== null;
}

function base(r: EtwRecord, pid: number, comm: string) {
  const uid = sidToUid(r.userSid);
  return { pid, tid: 0, ppid: 0, uid, gid: UNKNOWN_ID, euid: uid, cgroupId: 0n, comm, ktimeNs: filetimeToEpochNs(r.timestamp) };
}

function processStart(r: EtwRecord, ctx: EtwDecodeContext): { event: ExecEvent; commandLine: boolean } {
  const p = r.properties;
  const filename = toDosPath(str(p, 'ImageName'), ctx.dosDevices);
  const line = p[COMMAND_LINE_PROPERTY];
  const argv = typeof line === 'string' ? splitWindowsCommandLine(line) : [];
  // Working directory and process start, where the kernel layer's ExecEvent carries them (a spread,
  // so this compiles against either shape of ExecEvent).
  const optional = { cwd: null, startNs: filetimeToEpochNs(u64(p, 'CreateTime')) };
  const event: ExecEvent = {
    ...base(r, u32(p, 'ProcessID'), baseName(filename)), ...optional,
    kind: 'exec', ppid: u32(p, 'ParentProcessID'), filename, argv, argsTruncated: false,
  };
  return { event, commandLine: typeof line === 'string' };
}

function processStop(r: EtwRecord): ExitEvent {
  const p = r.properties;
  // ExitCode is an NTSTATUS or a program's code: kept as the unsigned 32-bit value Windows logs.
  return { ...base(r, u32(p, 'ProcessID'), baseName(str(p, 'ImageName', ''))), kind: 'exit', exitCode: u32(p, 'ExitCode'), signal: 0 };
}

function imageLoad(r: EtwRecord, ctx: EtwDecodeContext): SecurityEvent {
  const p = r.properties;
  const pid = u32(p, 'ProcessID');
  const imageBase = u64(p, 'ImageBase');
  const name = toDosPath(str(p, 'ImageName'), ctx.dosDevices);
  return {
    ...base(r, pid, ''), kind: 'security', op: imageBase >= KERNEL_SPACE ? 'module_load' : 'image_load',
    targetPid: pid, arg0: imageBase, arg1: u64(p, 'ImageSize'), name,
  };
}

function tcp(r: EtwRecord, family: 4 | 6, event: 'connect' | 'accept'): ConnectionEvent {
  const p = r.properties;
  // Both directions log the local end as saddr/sport and the peer as daddr/dport.
  const addr = (name: string) => (family === 4 ? ipv4(u32(p, name)) : ipv6(p[name]));
  return {
    ...base(r, u32(p, 'PID'), ''), uid: UNKNOWN_ID, euid: UNKNOWN_ID, // network events are logged in whatever context the stack ran in
    kind: 'connection', event, family,
    localAddress: addr('saddr'), localPort: port(u32(p, 'sport')), remoteAddress: addr('daddr'), remotePort: port(u32(p, 'dport')),
  };
}

export function decodeEtwRecords(records: readonly unknown[], ctx: EtwDecodeContext): EtwDecoded {
  const out: EtwDecoded = { events: [], security: [], errors: {}, commandLinesMissing: 0, ignored: 0 };
  const self = ctx.ignorePid;
  let ignored = 0;
  const bad = (reason: string) => (out.errors[reason] = (out.errors[reason] ?? 0) + 1);
  let missing = 0;
  for (const r of records) {
    if (!isRecord(r)) {
      bad('malformed_record');
      continue;
    }
    try {
      if (r.provider === KERNEL_PROCESS) {
        if (r.eventId === PROCESS_EVENTS.ProcessStart) {
          const { event, commandLine } = processStart(r, ctx);
          if (!commandLine) missing++;
          out.events.push(event);
        } else if (r.eventId === PROCESS_EVENTS.ProcessStop) out.events.push(processStop(r));
        else if (r.eventId === PROCESS_EVENTS.ImageLoad) out.security.push(imageLoad(r, ctx));
        else bad('unknown_event');
      } else if (r.provider === KERNEL_NETWORK) {
        const id = r.eventId;
        if (id === NETWORK_EVENTS.TcpV4Connect) out.events.push(tcp(r, 4, 'connect'));
        else if (id === NETWORK_EVENTS.TcpV4Accept) out.events.push(tcp(r, 4, 'accept'));
        else if (id === NETWORK_EVENTS.TcpV6Connect) out.events.push(tcp(r, 6, 'connect'));
        else if (id === NETWORK_EVENTS.TcpV6Accept) out.events.push(tcp(r, 6, 'accept'));
        else bad('unknown_event');
      } else {
        bad('unknown_provider');
      }
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      bad(e.message);
    }
  }
  if (self !== undefined) {
    const keep = <T extends { readonly pid: number }>(list: T[]) => list.filter((e) => e.pid !== self || (ignored++, false));
    return { ...out, events: keep(out.events), security: keep(out.security), commandLinesMissing: missing, ignored };
  }
  return { ...out, commandLinesMissing: missing };
}
