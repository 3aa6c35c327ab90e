// Alerts to Splunk's HTTP Event Collector (/services/collector/event): one gzip'd request per
// batch, events as newline-separated JSON objects, `Authorization: Splunk <token>`.
//
// Acknowledgement: HTTP 200 means HEC accepted the batch into its queue. With use_ack, that is not
// enough: the request carries X-Splunk-Request-Channel, HEC answers with an ackId, and deliver()
// polls /services/collector/ack until the indexer confirms (or ack_timeout_ms passes: retryable,
// and the events may still be indexed, so a retry can duplicate them; each event carries
// alert_uuid as an indexed field for `| dedup alert_uuid`).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { Alert } from '../alerts/alert.ts';
import { HttpTransport, isSuccess, type HttpResponse, type TlsMaterial } from './http-transport.ts';
import { clip, deliveryError } from './redact.ts';
import { SinkDeliveryError } from './sink-error.ts';
import type { Sink } from './sink.ts';

export interface SplunkHecSinkOptions {
  readonly name: string;
  /** Base URL, e.g. https://splunk.example.com:8088. */
  readonly url: string;
  readonly token: string;
  readonly index?: string | undefined;
  readonly source: string;
  readonly sourcetype: string;
  readonly gzip: boolean;
  readonly useAck: boolean;
  readonly ackTimeoutMs: number;
  readonly ackPollMs: number;
  readonly timeoutMs: number;
  readonly tls?: TlsMaterial;
  readonly version: string;
}

/** HEC status codes (Splunk docs, "Troubleshoot HTTP Event Collector"): what an operator reads. */
const HEC_CODES: Readonly<Record<number, string>> = {
  1: 'token disabled', 2: 'token is required', 3: 'invalid authorization', 4: 'invalid token',
  5: 'no data', 6: 'invalid data format', 7: 'incorrect index', 8: 'internal server error',
  9: 'server is busy', 10: 'data channel is missing', 11: 'invalid data channel',
  12: 'event field is required', 13: 'event field cannot be blank', 14: 'ACK is disabled',
  15: 'error in handling indexed fields', 16: 'query string authorization is not enabled',
  18: 'HEC is unhealthy, queues are full', 19: 'HEC is unhealthy, ack service unavailable',
  20: 'HEC is unhealthy, queues are full, ack service unavailable',
};

interface HecReply { text?: unknown; code?: unknown; ackId?: unknown; acks?: unknown }

function reply(res: HttpResponse): HecReply {
  try {
    const v: unknown = JSON.parse(res.body);
    return v !== null && typeof v === 'object' ? (v as HecReply) : {};
  } catch {
    return {};
  }
}

/** One HEC event: the alert as `event`, with the fields Splunk indexes for search. */
export function hecEvent(a: Alert, o: Pick<SplunkHecSinkOptions, 'index' | 'source' | 'sourcetype'>): string {
  return JSON.stringify({
    time: Date.parse(a.first_seen) / 1000,
    host: a.host,
    source: o.source,
    sourcetype: o.sourcetype,
    ...(o.index === undefined ? {} : { index: o.index }),
    fields: { alert_uuid: a.alert_uuid, rule_id: a.rule_id, severity: a.severity },
    event: a,
  });
}

export class SplunkHecSink implements Sink {
  readonly type = 'splunk_hec';
  readonly name: string;
  readonly #o: Omit<SplunkHecSinkOptions, 'token' | 'tls'>;
  readonly #token: string;
  readonly #http: HttpTransport;
  /** One channel per sink instance: HEC tracks ackIds per channel. */
  readonly #channel = randomUUID();

  constructor(o: SplunkHecSinkOptions) {
    const { token, tls, ...rest } = o;
    this.name = o.name;
    this.#o = rest;
    this.#token = token;
    this.#http = new HttpTransport(o.url, { timeoutMs: o.timeoutMs, what: `splunk_hec sink ${o.name}`, ...(tls ? { tls } : {}) });
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    try {
      const text = alerts.map((a) => hecEvent(a, this.#o)).join('\n');
      const res = await this.#post('/services/collector/event', Buffer.from(text, 'utf8'));
      if (!this.#o.useAck) return;
      const ackId = reply(res).ackId;
      // No ackId although we asked: the token has indexer acknowledgement off. HEC accepted the
      // batch (200), which is all this receiver can promise; docs/sinks.md says to turn it on.
      if (typeof ackId !== 'number') return;
      await this.#awaitAck(ackId);
    } catch (e) {
      throw deliveryError(e, [this.#token], `splunk_hec sink ${this.name}`);
    }
  }

  async #post(endpoint: string, body: Buffer): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      authorization: `Splunk ${this.#token}`,
      'content-type': 'application/json',
      'user-agent': `DaemonEye/${this.#o.version}`,
    };
    if (this.#o.useAck) headers['x-splunk-request-channel'] = this.#channel;
    let payload = body;
    if (this.#o.gzip) {
      payload = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    const res = await this.#http.request('POST', this.#http.basePath + endpoint, headers, payload);
    if (!isSuccess(res.status)) {
      const r = reply(res);
      const code = typeof r.code === 'number' ? r.code : undefined;
      const text = typeof r.text === 'string' ? r.text : code === undefined ? undefined : HEC_CODES[code];
      throw this.#http.statusError(res, text === undefined ? undefined : clip(`${code === undefined ? '' : `code ${code}: `}${text}`));
    }
    return res;
  }

  async #awaitAck(ackId: number): Promise<void> {
    const deadline = Date.now() + this.#o.ackTimeoutMs;
    const body = Buffer.from(JSON.stringify({ acks: [ackId] }));
    for (;;) {
      const res = await this.#post('/services/collector/ack', body);
      const acks = reply(res).acks as Record<string, unknown> | undefined;
      if (acks?.[String(ackId)] === true) return;
      if (Date.now() + this.#o.ackPollMs > deadline) {
        throw new SinkDeliveryError(
          `splunk_hec sink ${this.name}: ${this.#http.origin} accepted the batch (ackId ${ackId}) but did not confirm indexing within ${this.#o.ackTimeoutMs} ms`,
          { retryable: true });
      }
      await sleep(this.#o.ackPollMs);
    }
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
