// The one mapping from agent events to STIX 2.1 cyber-observable objects (docs/stix-mapping.md is
// its documentation; keep the two in step). Each event becomes one observation: a small graph of
// SCOs with local ids, observed at the event's time, so indicator patterns run on agent data with the
// same semantics as on observed-data from a feed.
import type { Observation } from '../pattern/observed-data.ts';

type Row = Readonly<Record<string, unknown>>;

/** Event kinds the matcher understands; `table` names the store table the row came from. */
export type AgentEventKind = 'process_snapshot' | 'process_exec' | 'network_connection' | 'network_flow' | 'dns_query' | 'tls_handshake' | 'http_request';

export interface AgentEvent {
  readonly kind: AgentEventKind;
  /** Row id in its table (snapshots: scan_id * 2^22 + pid is not needed; the pid identifies it). */
  readonly id: number;
  /** Wall-clock milliseconds. */
  readonly time: number;
  readonly row: Row;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : undefined);

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

function dirname(path: string): string | undefined {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : undefined) : path.slice(0, i);
}

function iso(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Drops undefined properties: a STIX property is absent, never null. (A for-in loop: this runs per event.) */
function sco(type: string, id: string, props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { type, id };
  for (const k in props) {
    const v = props[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

class Builder {
  readonly objects = new Map<string, Record<string, unknown>>();
  private n = 0;
  add(type: string, props: Record<string, unknown>): string {
    this.n += 1;
    const id = `${type}--${this.n}`;
    this.objects.set(id, sco(type, id, props));
    return id;
  }
}

function addProcess(b: Builder, row: Row, exec: boolean): string {
  const path = str(exec ? row['filename'] : row['executable_path']);
  let fileRef: string | undefined;
  if (path !== undefined) {
    const dir = dirname(path);
    const dirRef = dir === undefined ? undefined : b.add('directory', { path: dir });
    const hash = str(row['executable_hash']);
    fileRef = b.add('file', {
      name: basename(path),
      parent_directory_ref: dirRef,
      // The agent hashes executables with SHA-256 (lower-case hex); exec events carry no hash.
      hashes: hash === undefined ? undefined : { 'SHA-256': hash.toLowerCase() },
      x_daemoneye_path: path,
    });
  }
  const uid = int(row['user_id']);
  const userRef = uid === undefined ? undefined : b.add('user-account', {
    user_id: String(uid),
    account_login: str(row['user_name']),
    account_type: 'unix',
    is_privileged: uid === 0 ? true : undefined,
  });
  const ppid = int(row['ppid']);
  const parentRef = ppid === undefined ? undefined : b.add('process', { pid: ppid });
  return b.add('process', {
    pid: int(row['pid']),
    name: str(exec ? row['comm'] : row['name']),
    command_line: str(row['command_line']),
    cwd: str(row['cwd']),
    created_time: iso(int(exec ? row['process_start_time'] : row['start_time'])),
    image_ref: fileRef,
    creator_user_ref: userRef,
    parent_ref: parentRef,
  });
}

function ipObject(b: Builder, address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return b.add(address.includes(':') ? 'ipv6-addr' : 'ipv4-addr', { value: address });
}

function addConnection(b: Builder, row: Row): void {
  const event = str(row['event']);
  const local = ipObject(b, str(row['local_address']));
  const remote = ipObject(b, str(row['remote_address']));
  // connect: we are the source; accept: the remote peer is. A listen has no peer: only the local side.
  const inbound = event === 'accept';
  const family = int(row['family']) === 6 ? 'ipv6' : 'ipv4';
  const traffic = b.add('network-traffic', {
    src_ref: event === 'listen' ? local : inbound ? remote : local,
    dst_ref: event === 'listen' ? undefined : inbound ? local : remote,
    src_port: event === 'listen' ? int(row['local_port']) : inbound ? int(row['remote_port']) : int(row['local_port']),
    dst_port: event === 'listen' ? undefined : inbound ? int(row['local_port']) : int(row['remote_port']),
    protocols: [family, str(row['protocol']) ?? 'tcp'],
    x_daemoneye_event: event,
  });
  const pid = int(row['pid']);
  if (pid !== undefined && pid > 0) b.add('process', { pid, name: str(row['comm']), opened_connection_refs: [traffic] });
}

/** The flow endpoints every packet-derived table shares (client opened the flow: it is the source). */
function addEndpoints(b: Builder, row: Row): string {
  const client = ipObject(b, str(row['client_address']));
  const server = ipObject(b, str(row['server_address']));
  const traffic = b.add('network-traffic', {
    src_ref: client, dst_ref: server, src_port: int(row['client_port']), dst_port: int(row['server_port']),
    protocols: [int(row['ip_version']) === 6 ? 'ipv6' : 'ipv4', str(row['protocol']) ?? 'tcp'],
    src_byte_count: int(row['bytes_to_server']), dst_byte_count: int(row['bytes_to_client']),
    src_packets: int(row['packets_to_server']), dst_packets: int(row['packets_to_client']),
  });
  const pid = int(row['pid']);
  if (pid !== undefined && pid > 0) b.add('process', { pid, name: str(row['process_name']), opened_connection_refs: [traffic] });
  return traffic;
}

function hostName(v: unknown): string | undefined {
  const h = str(v);
  return h === undefined ? undefined : h.replace(/\.$/, '').replace(/:\d+$/, '').toLowerCase();
}

function addDns(b: Builder, row: Row): void {
  addEndpoints(b, row);
  // answers: [{name, type, ttl, data}]; A and AAAA data are the addresses the name resolves to.
  const answers = typeof row['answers'] === 'string' ? safeList(row['answers']) : [];
  const refs: string[] = [];
  for (const a of answers) {
    const rec = a as { type?: unknown; data?: unknown };
    if ((rec.type === 'A' || rec.type === 'AAAA') && typeof rec.data === 'string') refs.push(ipObject(b, rec.data)!);
  }
  b.add('domain-name', { value: hostName(row['query_name']), resolves_to_refs: refs.length > 0 ? refs : undefined });
}

function addHttp(b: Builder, row: Row): void {
  addEndpoints(b, row);
  const host = hostName(row['host']) ?? str(row['server_address']);
  const port = int(row['server_port']);
  const path = str(row['path']) ?? '/';
  if (host !== undefined) {
    const authority = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    b.add('url', { value: `http://${authority}${port === undefined || port === 80 ? '' : ':' + String(port)}${path}` });
  }
  const name = hostName(row['host']);
  if (name !== undefined) b.add('domain-name', { value: name });
}

function addTls(b: Builder, row: Row): void {
  addEndpoints(b, row);
  const name = hostName(row['server_name']);
  if (name !== undefined) b.add('domain-name', { value: name });
}

function addFlow(b: Builder, row: Row): void {
  addEndpoints(b, row);
  const name = hostName(row['server_name']);
  if (name !== undefined) b.add('domain-name', { value: name });
}

function safeList(text: string): unknown[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** The event as a STIX observation (one observation, first = last = the event time). */
export function eventObservation(e: AgentEvent): Observation {
  const b = new Builder();
  switch (e.kind) {
    case 'process_snapshot': addProcess(b, e.row, false); break;
    case 'process_exec': addProcess(b, e.row, true); break;
    case 'network_connection': addConnection(b, e.row); break;
    case 'network_flow': addFlow(b, e.row); break;
    case 'dns_query': addDns(b, e.row); break;
    case 'tls_handshake': addTls(b, e.row); break;
    case 'http_request': addHttp(b, e.row); break;
  }
  const us = BigInt(Math.trunc(e.time)) * 1000n;
  return { sdoId: `${e.kind}:${e.id}`, objects: b.objects, firstUs: us, lastUs: us };
}
