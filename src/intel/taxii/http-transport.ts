// One TAXII HTTP exchange, bounded: the body is streamed and abandoned past a size limit (a 2 GB
// response is never buffered), the whole exchange has a deadline (a server trickling a byte a
// second cannot hold us), and failures become DE_TAXII_* codes. Retries with exponential backoff
// and jitter cover the transient cases (network errors, timeouts, 429, 5xx), honouring Retry-After.
//
// Built on node:http(s) rather than fetch: fetch has no way to set a client certificate or CA per
// request without undici internals, and we need both for TAXII servers that use mutual TLS.

import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonEyeError, type ErrorCode } from '../../errors/catalogue.ts';
import { TAXII_MEDIA_TYPE, isTaxii21 } from './media-type.ts';
import { parseBoundedJson } from './bounded-json.ts';

export type TaxiiAuth =
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | { readonly type: 'bearer'; readonly token: string }
  | { readonly type: 'api_key'; readonly header: string; readonly value: string };

export interface TransportOptions {
  readonly auth?: TaxiiAuth | null;
  /** PEM: CAs to trust instead of the system store, and a client certificate + key for mutual TLS. */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Deadline of one attempt, from connect to the last body byte. */
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Deepest JSON nesting accepted (STIX objects are a few levels deep). */
  readonly maxJsonDepth?: number;
  /** Attempts after the first, for transient failures. */
  readonly retries?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails and the next sync retries. */
  readonly maxRetryAfterMs?: number;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
}

export interface TaxiiResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** A DE_TAXII_* error that also says which HTTP status (if any) caused it. */
export class TaxiiError extends DaemonEyeError {
  readonly status: number | null;
  constructor(code: ErrorCode, message: string, status: number | null, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.status = status;
  }
}

const DEFAULTS = {
  timeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024, maxJsonDepth: 64, retries: 3,
  backoffBaseMs: 500, backoffMaxMs: 30_000, maxRetryAfterMs: 120_000, userAgent: 'DaemonEye-TAXII/2.1',
};

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  401: 'DE_TAXII_UNAUTHORIZED', 403: 'DE_TAXII_FORBIDDEN', 404: 'DE_TAXII_NOT_FOUND',
  406: 'DE_TAXII_NOT_ACCEPTABLE', 415: 'DE_TAXII_UNSUPPORTED_MEDIA', 422: 'DE_TAXII_UNPROCESSABLE',
};

export class TaxiiTransport {
  readonly #o: Required<Omit<TransportOptions, 'auth' | 'ca' | 'cert' | 'key' | 'signal'>>;
  readonly #auth: TaxiiAuth | null;
  readonly #signal: AbortSignal | undefined;
  readonly #https: HttpsAgent;
  readonly #http: HttpAgent;

  constructor(options: TransportOptions = {}) {
    this.#o = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULTS.maxJsonDepth,
      retries: options.retries ?? DEFAULTS.retries,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
      userAgent: options.userAgent ?? DEFAULTS.userAgent,
    };
    this.#auth = options.auth ?? null;
    this.#signal = options.signal;
    this.#https = new HttpsAgent({
      keepAlive: true, maxSockets: 4,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined ? {} : { cert: options.cert }),
      ...(options.key === undefined ? {} : { key: options.key }),
    });
    this.#http = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }

  /** GET a TAXII resource. */
  get(url: string): Promise<TaxiiResponse> {
    return this.#withRetries('GET', url, undefined);
  }

  /** POST a TAXII envelope. Retried like GET: TAXII servers dedupe objects by id and modified. */
  post(url: string, body: unknown): Promise<TaxiiResponse> {
    return this.#withRetries('POST', url, Buffer.from(JSON.stringify(body)));
  }

  async #withRetries(method: string, url: string, body: Buffer | undefined): Promise<TaxiiResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#once(method, url, body);
      } catch (e) {
        const retry = e instanceof Retryable ? e : null;
        if (retry === null) throw e;
        if (attempt >= this.#o.retries || this.#signal?.aborted) throw retry.error;
        const backoff = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** attempt);
        // Full jitter: many agents behind one feed must not retry in lockstep.
        let wait = Math.random() * backoff;
        if (retry.retryAfterMs !== null) {
          if (retry.retryAfterMs > this.#o.maxRetryAfterMs) throw retry.error;
          wait = Math.max(wait, retry.retryAfterMs);
        }
        await sleep(wait, undefined, this.#signal === undefined ? {} : { signal: this.#signal }).catch(() => {});
        if (this.#signal?.aborted) throw retry.error;
      }
    }
  }

  #once(method: string, url: string, body: Buffer | undefined): Promise<TaxiiResponse> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: TAXII_MEDIA_TYPE, 'user-agent': this.#o.userAgent };
    if (body !== undefined) {
      headers['content-type'] = TAXII_MEDIA_TYPE;
      headers['content-length'] = String(body.length);
    }
    const a = this.#auth;
    if (a?.type === 'basic') headers.authorization = 'Basic ' + Buffer.from(`${a.username}:${a.password}`).toString('base64');
    else if (a?.type === 'bearer') headers.authorization = `Bearer ${a.token}`;
    else if (a?.type === 'api_key') headers[a.header.toLowerCase()] = a.value;

    const isHttps = target.protocol === 'https:';
    const send = isHttps ? httpsRequest : httpRequest;
    const where = `${method} ${target.origin}${target.pathname}`;
    return new Promise<TaxiiResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: TaxiiResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.#signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          req.destroy();
          reject(err);
        } else resolve(value!);
      };
      const req = send(target, { method, headers, agent: isHttps ? this.#https : this.#http });
      const deadline = setTimeout(() => finish(new Retryable(new TaxiiError('DE_TAXII_TIMEOUT',
        `${where}: no complete answer within ${this.#o.timeoutMs} ms`, null), null)), this.#o.timeoutMs);
      const onAbort = () => finish(new TaxiiError('DE_TAXII_TIMEOUT', `${where}: cancelled`, null));
      this.#signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (cause) => finish(new Retryable(new TaxiiError('DE_TAXII_NETWORK', `${where}: ${(cause as Error).message}`, null, { cause }), null)));
      req.on('response', (res) => {
        // Called synchronously from the body's events, so a size-limit error is settled before the
        // socket teardown it causes can report itself as a network error.
        this.#readBody(res, where, (err, buf) => {
          if (err !== undefined) return finish(err);
          try {
            finish(undefined, this.#interpret(res, buf!, where));
          } catch (e) {
            finish(e);
          }
        });
      });
      req.end(body);
    });
  }

  /** Streams the body, abandoning it (and the connection) past maxResponseBytes. */
  #readBody(res: IncomingMessage, where: string, done: (err: unknown, buf?: Buffer) => void): void {
    const limit = this.#o.maxResponseBytes;
    const tooLarge = (n: string) => new TaxiiError('DE_TAXII_TOO_LARGE', `${where}: response of ${n} bytes exceeds the ${limit}-byte limit`, res.statusCode ?? null);
    let over = false;
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      done(tooLarge(String(declared)));
      res.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      if (over) return;
      total += chunk.length;
      if (total > limit) {
        over = true;
        done(tooLarge(`over ${limit}`));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => { if (!over) done(undefined, Buffer.concat(chunks, total)); });
    const broken = (cause?: Error) => done(new Retryable(new TaxiiError('DE_TAXII_NETWORK',
      `${where}: ${cause?.message ?? 'the server closed the connection mid-response'}`, null, cause === undefined ? {} : { cause }), null));
    res.on('error', (cause) => broken(cause));
    res.on('aborted', () => broken());
  }

  #interpret(res: IncomingMessage, buf: Buffer, where: string): TaxiiResponse {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      if (!isTaxii21(res.headers['content-type'])) {
        throw new TaxiiError('DE_TAXII_CONTENT_TYPE', `${where}: content type ${JSON.stringify(res.headers['content-type'] ?? '(none)').slice(0, 120)}, expected ${TAXII_MEDIA_TYPE}`, status);
      }
      return { status, headers: res.headers, body: this.#json(buf, where, status) };
    }
    const detail = describeTaxiiError(buf);
    const message = `${where}: HTTP ${status}${detail}`;
    if (status === 429 || status >= 500) {
      throw new Retryable(new TaxiiError('DE_TAXII_SERVER', message, status), retryAfterMs(res.headers['retry-after']));
    }
    throw new TaxiiError(STATUS_CODES[status] ?? 'DE_TAXII_PROTOCOL', message, status);
  }

  #json(buf: Buffer, where: string, status: number): unknown {
    try {
      return parseBoundedJson(buf.toString('utf8'), this.#o.maxJsonDepth);
    } catch (e) {
      throw new TaxiiError('DE_TAXII_INVALID_JSON', `${where}: ${(e as Error).message}`, status, { cause: e });
    }
  }
}

/** A failure worth another attempt; carries the error to throw when attempts run out. */
class Retryable extends Error {
  readonly error: TaxiiError;
  readonly retryAfterMs: number | null;
  constructor(error: TaxiiError, retryAfterMs: number | null) {
    super(error.message);
    this.error = error;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** The TAXII error message's title/description, clipped and made printable, for the log line. */
function describeTaxiiError(buf: Buffer): string {
  if (buf.length === 0 || buf.length > 65_536) return '';
  try {
    const e = JSON.parse(buf.toString('utf8')) as { title?: unknown; description?: unknown };
    const parts = [e.title, e.description].filter((x): x is string => typeof x === 'string');
    if (parts.length === 0) return '';
    return ': ' + parts.join(' — ').replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300);
  } catch {
    return '';
  }
}
