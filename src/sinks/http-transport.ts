// One HTTP(S) endpoint for the HTTP sinks (webhook, Splunk HEC, Elasticsearch): keep-alive
// connections, the sink's TLS material (CA, client certificate), and a deadline covering connect,
// request and the whole response. node:https rather than fetch: per-sink CAs and client
// certificates need an Agent, which fetch only takes through undici's own dispatcher.
//
// Lifecycle of a request: connect (or reuse an idle socket) -> write headers and body -> read the
// whole response (kept up to 64 KiB) -> resolve with the status. Any network failure or the
// deadline rejects with a retryable SinkDeliveryError; statuses are the caller's to judge.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { clip, originOf } from './redact.ts';
import { isRetryableStatus, parseRetryAfter } from './retry-after.ts';
import { SinkDeliveryError } from './sink-error.ts';

/** PEM material, already read from the configured files. */
export interface TlsMaterial {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Server name to verify, when it differs from the URL's host. */
  readonly servername?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const MAX_KEPT_BODY = 64 * 1024;

export class HttpTransport {
  /** scheme://host:port, what messages show (never the path or query: they may hold tokens). */
  readonly origin: string;
  readonly url: URL;
  readonly #agent: HttpAgent;
  readonly #timeoutMs: number;
  readonly #what: string;

  constructor(url: string, options: { timeoutMs: number; what: string; tls?: TlsMaterial }) {
    this.url = new URL(url);
    this.origin = originOf(this.url);
    this.#timeoutMs = options.timeoutMs;
    this.#what = options.what;
    const common = { keepAlive: true, maxSockets: 4 };
    this.#agent = this.url.protocol === 'https:'
      ? new HttpsAgent({ ...common, ...options.tls })
      : new HttpAgent(common);
  }

  /** The base URL's path without a trailing slash, for sinks that append endpoints to it. */
  get basePath(): string {
    return this.url.pathname.replace(/\/+$/, '');
  }

  request(method: string, path: string, headers: OutgoingHttpHeaders, body?: Buffer): Promise<HttpResponse> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<HttpResponse>((resolve, reject) => {
      let timedOut = false;
      const req = send({
        protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port || undefined,
        method, path, agent: this.#agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': body.length },
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, this.#timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        const why = timedOut
          ? `no answer from ${this.origin} within ${this.#timeoutMs} ms`
          : `cannot reach ${this.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
        reject(new SinkDeliveryError(`${this.#what}: ${why}`, { retryable: true, cause: e }));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < MAX_KEPT_BODY) chunks.push(c);
          kept += c.length;
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('response aborted')));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_KEPT_BODY).toString('utf8') });
        });
      });
      req.end(body);
    });
  }

  /** The error for a non-2xx answer: retryable for 408, 425, 429 and 5xx, with Retry-After. */
  statusError(res: HttpResponse, detail?: string): SinkDeliveryError {
    const retryable = isRetryableStatus(res.status);
    const retryAfterMs = retryable ? parseRetryAfter(res.headers['retry-after']) : undefined;
    const said = detail ?? clip(res.body);
    return new SinkDeliveryError(`${this.#what}: ${this.origin} answered HTTP ${res.status}${said ? ` (${said})` : ''}`, {
      retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
