// Alerts to Elasticsearch (or OpenSearch) through the _bulk API: one gzip'd NDJSON request per
// batch, each alert a `create` with _id = alert_uuid. `create` refuses an _id that exists, so a
// replayed batch is harmless: a 409 version_conflict_engine_exception on an item means "already
// delivered" and counts as success. The index name may hold {yyyy}, {MM}, {dd}, filled from the
// alert's first_seen (never the delivery time: a replay must land in the same index to collide).
//
// _bulk answers 200 even when items fail, so every item is checked: 201/200/409 succeed; if the
// others all failed with 429 or 5xx the batch is retryable, and if any failed otherwise (a mapping
// error, a closed index) it is not, as resending cannot fix it.
import { gzipSync } from 'node:zlib';
import type { Alert } from '../alerts/alert.ts';
import { HttpTransport, isSuccess, type HttpResponse, type TlsMaterial } from './http-transport.ts';
import { clip, deliveryError } from './redact.ts';
import { isRetryableStatus } from './retry-after.ts';
import { SinkDeliveryError } from './sink-error.ts';
import type { Sink } from './sink.ts';

export interface ElasticsearchSinkOptions {
  readonly name: string;
  readonly url: string;
  /** Index name; {yyyy}, {MM}, {dd} (alone or together, e.g. {yyyy.MM.dd}) take the alert's UTC date. */
  readonly index: string;
  /** The encoded API key as Kibana shows it (sent as `Authorization: ApiKey <key>`). */
  readonly apiKey?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly tls?: TlsMaterial;
  readonly version: string;
}

/** The index an alert goes to: date tokens filled from first_seen, in UTC. */
export function indexFor(pattern: string, alert: Pick<Alert, 'first_seen'>): string {
  const d = new Date(alert.first_seen);
  const pad = (n: number) => String(n).padStart(2, '0');
  return pattern.replace(/\{([yMd.-]+)\}/g, (_, f: string) =>
    f.replace('yyyy', String(d.getUTCFullYear())).replace('MM', pad(d.getUTCMonth() + 1)).replace('dd', pad(d.getUTCDate())));
}

/** The NDJSON body: an action line and a document line per alert, newline-terminated. */
export function bulkBody(alerts: readonly Alert[], pattern: string): string {
  return alerts.map((a) =>
    `${JSON.stringify({ create: { _index: indexFor(pattern, a), _id: a.alert_uuid } })}\n${JSON.stringify({ '@timestamp': a.first_seen, ...a })}\n`).join('');
}

interface BulkItem { status?: number; error?: { type?: string; reason?: string } }

const FILTER = 'filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason';

export class ElasticsearchSink implements Sink {
  readonly type = 'elasticsearch';
  readonly name: string;
  readonly #http: HttpTransport;
  readonly #index: string;
  readonly #gzip: boolean;
  readonly #auth: string | undefined;
  readonly #secrets: string[];
  readonly #userAgent: string;

  constructor(o: ElasticsearchSinkOptions) {
    this.name = o.name;
    this.#http = new HttpTransport(o.url, { timeoutMs: o.timeoutMs, what: `elasticsearch sink ${o.name}`, ...(o.tls ? { tls: o.tls } : {}) });
    this.#index = o.index;
    this.#gzip = o.gzip;
    this.#userAgent = `DaemonEye/${o.version}`;
    if (o.apiKey !== undefined) {
      this.#auth = `ApiKey ${o.apiKey}`;
      this.#secrets = [o.apiKey];
    } else if (o.username !== undefined && o.password !== undefined) {
      const pair = `${o.username}:${o.password}`;
      this.#auth = `Basic ${Buffer.from(pair).toString('base64')}`;
      this.#secrets = [o.password, pair];
    } else {
      this.#auth = undefined;
      this.#secrets = [];
    }
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    try {
      const res = await this.#post(Buffer.from(bulkBody(alerts, this.#index), 'utf8'));
      this.#checkItems(res, alerts);
    } catch (e) {
      throw deliveryError(e, this.#secrets, `elasticsearch sink ${this.name}`);
    }
  }

  async #post(body: Buffer): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      accept: 'application/json',
      'user-agent': this.#userAgent,
    };
    if (this.#auth !== undefined) headers['authorization'] = this.#auth;
    let payload = body;
    if (this.#gzip) {
      payload = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    const res = await this.#http.request('POST', `${this.#http.basePath}/_bulk?${FILTER}`, headers, payload);
    if (!isSuccess(res.status)) {
      let detail: string | undefined;
      try {
        const err = (JSON.parse(res.body) as { error?: { type?: string; reason?: string } }).error;
        if (err?.type) detail = clip(`${err.type}: ${err.reason ?? ''}`);
      } catch { /* not JSON: the raw text is shown */ }
      throw this.#http.statusError(res, detail);
    }
    return res;
  }

  #checkItems(res: HttpResponse, alerts: readonly Alert[]): void {
    let parsed: { errors?: boolean; items?: Record<string, BulkItem>[] };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new SinkDeliveryError(`elasticsearch sink ${this.name}: ${this.#http.origin} answered _bulk with something other than JSON`, { retryable: true });
    }
    if (parsed.errors === false) return;
    const items = parsed.items ?? [];
    if (items.length !== alerts.length) {
      throw new SinkDeliveryError(`elasticsearch sink ${this.name}: _bulk answered ${items.length} items for ${alerts.length} alerts`, { retryable: true });
    }
    const failed: { uuid: string; status: number; why: string }[] = [];
    items.forEach((entry, i) => {
      const item = Object.values(entry)[0] ?? {};
      const status = item.status ?? 0;
      // 409 on `create`: the _id exists, i.e. an earlier attempt delivered this alert.
      if ((status >= 200 && status < 300) || status === 409) return;
      failed.push({ uuid: alerts[i]!.alert_uuid, status, why: item.error?.type ?? 'unknown error' });
    });
    if (failed.length === 0) return;
    const retryable = failed.every((f) => isRetryableStatus(f.status));
    const first = failed[0]!;
    throw new SinkDeliveryError(
      `elasticsearch sink ${this.name}: ${failed.length} of ${alerts.length} alerts refused, first ${first.uuid}: HTTP ${first.status} ${clip(first.why, 100)}`,
      { retryable });
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
