// The `center` sink: alerts from the agent's durable outbox to its security center over mutual
// TLS. The outbox, retries, backoff and circuit breaker are the dispatcher's (src/outbox/), as for
// every sink; this is only the transport. Storm control folds identical alerts into one for a SIEM,
// but the center keeps every alert (each is a fact with its own sequence), so folded duplicates
// are read back from the store and sent individually.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { toAlert, type Alert, type AlertRow } from '../alerts/alert.ts';
import { SinkDeliveryError } from '../sinks/sink-error.ts';
import type { Sink } from '../sinks/sink.ts';
import { openStoreReadOnly, storePath, type Db } from '../store/open-store.ts';
import { CenterHttp } from './center-http.ts';
import { loadIdentity, type Identity } from './identity.ts';

export interface CenterSinkOptions {
  readonly name: string;
  /** DATA_DIR/identity, written by `daemoneye enroll`. */
  readonly identityDir: string;
  readonly dataDir: string;
  readonly timeoutMs: number;
  /** Overrides the URL recorded at enrolment (e.g. a load balancer in front of several centers). */
  readonly url?: string | undefined;
}

/** Statuses after which the same batch would be refused again: dead-letter it rather than retry forever. */
const PERMANENT = new Set([400, 401, 403, 404, 413, 415, 422]);

/** The center refuses alerts past its field limits (src/center/alert-input.ts): clip long text here. */
const CLIP = { command_line: 65_536, executable_path: 4096, process_name: 4096, summary: 4096, dedup_key: 1024 } as const;
const MAX_EVIDENCE_BYTES = 1024 * 1024;

/** The alert within the center's limits: over-long text cut (marked), oversized evidence replaced by its digest. */
export function clipForCenter(a: Alert): Alert {
  let out: Alert = a;
  for (const [key, max] of Object.entries(CLIP) as [keyof typeof CLIP, number][]) {
    const v = out[key];
    if (typeof v === 'string' && v.length > max) out = { ...out, [key]: `${v.slice(0, max - 20)}…[clipped ${v.length}]` };
  }
  const evidence = JSON.stringify(out.evidence);
  if (Buffer.byteLength(evidence) > MAX_EVIDENCE_BYTES) {
    out = { ...out, evidence: { clipped: true, bytes: Buffer.byteLength(evidence), sha256: createHash('sha256').update(evidence).digest('hex') } };
  }
  return out;
}

const MAX_ALERTS_PER_REQUEST = 1000;
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Splits alerts into requests of at most 1,000 alerts and about 4 MiB of JSON. */
export function chunks(alerts: readonly Alert[]): Alert[][] {
  const out: Alert[][] = [];
  let part: Alert[] = [];
  let bytes = 0;
  for (const a of alerts) {
    const size = Buffer.byteLength(JSON.stringify(a));
    if (part.length > 0 && (part.length >= MAX_ALERTS_PER_REQUEST || bytes + size > MAX_REQUEST_BYTES)) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(a);
    bytes += size;
  }
  if (part.length > 0) out.push(part);
  return out;
}

export class CenterSink implements Sink {
  readonly name: string;
  readonly type = 'center';
  readonly #o: CenterSinkOptions;
  #http: CenterHttp | null = null;
  #identity: Identity | null = null;
  #certMtime = 0;
  #store: Db | null = null;

  constructor(o: CenterSinkOptions) {
    this.name = o.name;
    this.#o = o;
  }

  /** The identity and connection, reloaded when the certificate file changed (rotation). */
  #client(): { http: CenterHttp; identity: Identity } {
    const mtime = statSync(join(this.#o.identityDir, 'cert.pem')).mtimeMs;
    if (this.#http === null || this.#identity === null || mtime !== this.#certMtime) {
      this.#http?.close();
      this.#identity = loadIdentity(this.#o.identityDir);
      this.#http = CenterHttp.forIdentity(this.#identity, this.#o.url ?? this.#identity.center_url, { timeoutMs: this.#o.timeoutMs });
      this.#certMtime = mtime;
    }
    return { http: this.#http, identity: this.#identity };
  }

  #unfold(alerts: readonly Alert[]): Alert[] {
    const out: Alert[] = [];
    const missing: number[] = [];
    for (const a of alerts) {
      const { duplicates, ...alert } = a;
      out.push(alert);
      if (duplicates) missing.push(...duplicates.alert_ids);
    }
    if (missing.length === 0) return out;
    this.#store ??= openStoreReadOnly(storePath(this.#o.dataDir));
    const rows = this.#store.prepare('SELECT * FROM alerts WHERE alert_id IN (SELECT value FROM json_each(?))').all(JSON.stringify(missing)) as AlertRow[];
    return [...out, ...rows.map(toAlert)];
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    let client;
    try {
      client = this.#client();
    } catch (e) {
      throw new SinkDeliveryError(`center: no usable identity in ${this.#o.identityDir}: ${(e as Error).message}`, { retryable: true, cause: e });
    }
    // Requests stay within the center's limits (max_alerts_per_request, max_body_bytes) whatever
    // batch_size and unfolding make of the batch. A failure part-way makes the dispatcher retry the
    // whole batch; the center stores the parts it already has once.
    for (const part of chunks(this.#unfold(alerts).map(clipForCenter))) {
      const r = await client.http.send<{ reason?: string; message?: string }>('POST', '/api/v1/alerts', {
        agent_id: client.identity.id, alerts: part,
      }).catch((e: unknown) => {
        throw new SinkDeliveryError(`center: ${(e as Error).message}`, { retryable: true, cause: e });
      });
      if (r.status >= 200 && r.status < 300) continue;
      const why = `center ${client.http.baseUrl.origin} answered HTTP ${r.status} (${r.body?.reason ?? r.body?.message ?? ''})`;
      throw new SinkDeliveryError(why, { retryable: !PERMANENT.has(r.status) });
    }
  }

  async close(): Promise<void> {
    this.#http?.close();
    this.#store?.close();
    this.#store = null;
  }
}
