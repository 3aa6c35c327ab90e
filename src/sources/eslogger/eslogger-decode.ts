// One eslogger JSON line -> one of our event kinds. eslogger (macOS 13+) prints each EndpointSecurity
// message as JSON modelled on es_message_t (eslogger(1): "the data is modelled after es_message_t",
// with a top-level schema_version). Mapping:
//   exec   -> ExecEvent   (process_exec):  event.exec.target is the new image; args, cwd
//   fork   -> ForkEvent   (process_fork):  event.fork.child
//   exit   -> ExitEvent   (process_exit):  event.exit.stat is a wait(2) status
//   signal -> SecurityEvent op "signal" (process_security_events): event.signal.sig, .target
// Unknown fields are ignored; a line that is not what we expect is counted by reason, never thrown.
import type { EventBase, ExecEvent, ExitEvent, ForkEvent, KernelEvent, SecurityEvent } from '../../normalize/kernel-event.ts';

/** The only schema_version eslogger has published; another one is counted, not guessed at. */
export const SUPPORTED_SCHEMA_VERSION = 1;

/** es_message_t.version from which a field exists (EndpointSecurity's ESMessage.h "Field available
 * only if message version >= N"): process.start_time and exec.cwd from 3, thread from 4. */
const V_START_TIME = 3;
const V_CWD = 3;
const V_THREAD = 4;

export type EsDecoded =
  | { readonly ok: true; readonly event: KernelEvent | SecurityEvent }
  | { readonly ok: false; readonly reason: string };

type Json = Record<string, unknown>;
class Bad extends Error {}

const obj = (v: unknown, reason = 'missing_field'): Json => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(reason);
  return v as Json;
};
const int = (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Bad('missing_field');
  return v;
};
const text = (v: unknown): string => {
  if (typeof v !== 'string') throw new Bad('missing_field');
  return v;
};

/** "2022-11-08T13:37:36.431413451Z" (RFC 3339, up to 9 fraction digits) -> Unix epoch ns. */
export function parseEsTime(s: unknown): bigint {
  if (typeof s !== 'string') throw new Bad('bad_time');
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) throw new Bad('bad_time');
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms)) throw new Bad('bad_time');
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** es_process_t -> the fields every event shares. audit_token carries the ids (ruid/euid/rgid). */
function proc(p: unknown, version: number, thread: unknown, time: bigint): EventBase & { readonly path: string } {
  const o = obj(p);
  const token = obj(o['audit_token']);
  const path = text(obj(o['executable'])['path']);
  const uid = int(token['ruid']);
  const threadId = version >= V_THREAD && typeof thread === 'object' && thread !== null ? (thread as Json)['thread_id'] : 0;
  const tid = typeof threadId === 'number' && Number.isSafeInteger(threadId) && threadId >= 0 ? threadId : 0;
  return {
    pid: int(token['pid']), tid, ppid: int(o['ppid']), uid, gid: int(token['rgid']),
    euid: int(token['euid']), cgroupId: 0n, comm: baseName(path), ktimeNs: time, path,
  };
}

function strip<T extends { readonly path: string }>(p: T): Omit<T, 'path'> {
  const { path: _path, ...rest } = p;
  return rest;
}

function exec(m: Json, e: Json, version: number, time: bigint): ExecEvent {
  const target = proc(e['target'], version, m['thread'], time);
  const args = e['args'];
  const argv = Array.isArray(args) && args.every((a) => typeof a === 'string') ? (args as string[]) : [];
  const cwdObj = e['cwd'];
  const cwd = version >= V_CWD && typeof cwdObj === 'object' && cwdObj !== null && typeof (cwdObj as Json)['path'] === 'string' ? (cwdObj as Json)['path'] as string : null;
  const start = (e['target'] as Json)['start_time'];
  // Optional ExecEvent fields, spread so this compiles against either shape of the type.
  const optional = { cwd, ...(version >= V_START_TIME && start !== undefined ? { startNs: parseEsTime(start) } : {}) };
  return { ...strip(target), ...optional, kind: 'exec', filename: target.path, argv, argsTruncated: false };
}

function fork(m: Json, e: Json, version: number, time: bigint): ForkEvent {
  const parent = proc(m['process'], version, m['thread'], time);
  const child = obj(obj(e['child'])['audit_token']);
  return { ...strip(parent), kind: 'fork', childPid: int(child['pid']), childTid: 0 };
}

function exit(m: Json, e: Json, version: number, time: bigint): ExitEvent {
  const p = proc(m['process'], version, m['thread'], time);
  const stat = int(e['stat']);
  // wait(2) status: low 7 bits the terminating signal (0 = exited normally), next 8 the exit code.
  const signal = stat & 0x7f;
  return { ...strip(p), kind: 'exit', exitCode: signal === 0 ? (stat >> 8) & 0xff : 0, signal: signal === 0x7f ? 0 : signal };
}

function signal(m: Json, e: Json, version: number, time: bigint): SecurityEvent {
  const p = proc(m['process'], version, m['thread'], time);
  const target = proc(e['target'], version, undefined, time);
  return { ...strip(p), kind: 'security', op: 'signal', targetPid: target.pid, arg0: BigInt(int(e['sig'])), arg1: 0n, name: target.path };
}

const MAPPERS: Record<string, (m: Json, e: Json, version: number, time: bigint) => KernelEvent | SecurityEvent> = { exec, fork, exit, signal };

export function decodeEsloggerLine(line: string): EsDecoded {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'malformed_json' };
  }
  try {
    const msg = obj(m, 'not_an_object');
    if (msg['schema_version'] !== SUPPORTED_SCHEMA_VERSION) return { ok: false, reason: 'unsupported_schema' };
    const version = int(msg['version']);
    const events = obj(msg['event']);
    const kinds = Object.keys(events).filter((k) => Object.hasOwn(MAPPERS, k));
    if (kinds.length !== 1) return { ok: false, reason: 'unknown_event' };
    const kind = kinds[0]!;
    return { ok: true, event: MAPPERS[kind]!(msg, obj(events[kind]), version, parseEsTime(msg['time'])) };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.message };
    throw e;
  }
}
