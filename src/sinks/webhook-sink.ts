// Alerts POSTed as JSON to an HTTPS endpoint (a SOAR, a chat bridge, a SOC's own service).
// One request per alert: the body is the alert object (the JSONL line), so the receiver's
// Idempotency-Key is that alert's alert_uuid and a batch retried after a partial failure repeats
// only keys the receiver has seen. The body is signed: X-DaemonEye-Signature: sha256=<hex HMAC>.
import { createHmac } from 'node:crypto';
import type { Alert } from '../alerts/alert.ts';
import { formatAlertJson } from './format-alert.ts';
import { HttpTransport, isSuccess, type TlsMaterial } from './http-transport.ts';
import { deliveryError } from './redact.ts';
import type { Sink } from './sink.ts';

export interface WebhookSinkOptions {
  readonly name: string;
  readonly url: string;
  /** HMAC-SHA256 key shared with the receiver; no signature header without it. */
  readonly secret?: string | undefined;
  /** Extra headers (their values are treated as secrets: they often carry a bearer token). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly tls?: TlsMaterial;
  /** DaemonEye's version, for User-Agent. */
  readonly version: string;
}

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes, as X-DaemonEye-Signature carries it. */
export function signBody(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookSink implements Sink {
  readonly type = 'webhook';
  readonly name: string;
  readonly #http: HttpTransport;
  readonly #path: string;
  readonly #secret: string | undefined;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #userAgent: string;

  constructor(o: WebhookSinkOptions) {
    this.name = o.name;
    this.#http = new HttpTransport(o.url, { timeoutMs: o.timeoutMs, what: `webhook sink ${o.name}`, ...(o.tls ? { tls: o.tls } : {}) });
    this.#path = this.#http.url.pathname + this.#http.url.search;
    this.#secret = o.secret;
    this.#headers = o.headers ?? {};
    this.#userAgent = `DaemonEye/${o.version}`;
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    try {
      for (const alert of alerts) await this.#post(alert);
    } catch (e) {
      throw deliveryError(e, this.#secrets(), `webhook sink ${this.name}`);
    }
  }

  async #post(alert: Alert): Promise<void> {
    const body = Buffer.from(formatAlertJson(alert), 'utf8');
    const headers: Record<string, string> = {
      ...this.#headers,
      'content-type': 'application/json',
      'user-agent': this.#userAgent,
      'idempotency-key': alert.alert_uuid,
    };
    if (this.#secret !== undefined) headers['x-daemoneye-signature'] = signBody(body, this.#secret);
    const res = await this.#http.request('POST', this.#path, headers, body);
    if (!isSuccess(res.status)) throw this.#http.statusError(res);
  }

  #secrets(): string[] {
    return [...(this.#secret === undefined ? [] : [this.#secret]), ...Object.values(this.#headers)];
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}
