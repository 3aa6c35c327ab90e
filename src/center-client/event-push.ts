// Pushes detection-relevant rows of the agent's store (process_exec, network_connections,
// process_security_events, dns_queries, tls_handshakes) to the center after each heartbeat.
// One cursor per table, the last row id the center acknowledged: it moves only after HTTP 200,
// so an agent whose center is down sends the same rows later (the center's unique (agent, kind,
// source_id) makes a resent batch store nothing twice). Bounded: at most maxRows rows per table per
// beat, requests of about MAX_REQUEST_BYTES, strings clipped to MAX_FIELD_CHARS.
import type { Db } from '../store/open-store.ts';
import type { CenterHttp } from './center-http.ts';

/** Keeps a request well below the center's default 8 MiB body limit. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** A long argv or certificate field keeps its start; the full row stays in the local store. */
export const MAX_FIELD_CHARS = 4096;
/** What the center accepts per request by default (center.json max_events_per_request). */
const MAX_EVENTS_PER_REQUEST = 10_000;

export interface EventPushOptions {
  readonly agentId: string;
  readonly host: string;
  readonly tables: readonly string[];
  readonly maxRows: number;
  readonly cursor: (table: string) => number;
  /** Called after the center acknowledged every row up to `lastId` of `table`. */
  readonly advance: (table: string, lastId: number) => void;
}

export interface EventPushResult {
  readonly sent: Record<string, number>;
}

interface WireEvent { kind: string; source_id: number; time: number; body: Record<string, unknown> }

function clip(v: unknown): unknown {
  if (typeof v === 'string') return v.length > MAX_FIELD_CHARS ? `${v.slice(0, MAX_FIELD_CHARS)}…[clipped ${v.length - MAX_FIELD_CHARS} chars]` : v;
  if (Buffer.isBuffer(v)) return clip(v.toString('hex'));
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

export function toWire(kind: string, row: Record<string, unknown>, now: number): WireEvent {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) body[k] = clip(v);
  const t = Number(row.time);
  return { kind, source_id: Number(row.id), time: Number.isSafeInteger(t) && t >= 0 ? t : now, body };
}

const tableExists = (db: Db, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?").get(name) !== undefined; // process_exec is a view (migration 41)

/** Sends what is new; throws when the center did not acknowledge (cursors of acknowledged requests have moved). */
export async function pushEvents(http: CenterHttp, db: Db, o: EventPushOptions): Promise<EventPushResult> {
  const sent: Record<string, number> = {};
  for (const table of o.tables) {
    if (!/^[a-z_]+$/.test(table) || !tableExists(db, table)) continue;
    const rows = db.prepare(`SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(o.cursor(table), o.maxRows) as Record<string, unknown>[];
    const now = Date.now();
    let batch: WireEvent[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await http.json('POST', '/api/v1/events', { agent_id: o.agentId, host: o.host, events: batch });
      o.advance(table, batch[batch.length - 1]!.source_id);
      sent[table] = (sent[table] ?? 0) + batch.length;
      batch = [];
      bytes = 0;
    };
    for (const row of rows) {
      const e = toWire(table, row, now);
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (batch.length > 0 && (bytes + size > MAX_REQUEST_BYTES || batch.length >= MAX_EVENTS_PER_REQUEST)) await flush();
      batch.push(e);
      bytes += size;
    }
    await flush();
  }
  return { sent };
}
