// HTTPS to a center with the enrolled identity (mutual TLS): the center's CA is the only trust
// anchor, the client certificate is the identity. JSON in, JSON out; a refusal becomes an error
// carrying the center's status and message, so callers can tell "retry later" from "refused".
import { Agent, request } from 'node:https';
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { Identity } from './identity.ts';

export interface CenterResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Record<string, string | string[] | undefined>;
}

export class CenterHttpError extends DaemonEyeError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('DE_CENTER_REQUEST', message);
    this.status = status;
  }
}

export interface TlsClientMaterial {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

export class CenterHttp {
  readonly baseUrl: URL;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, tls: TlsClientMaterial, options: { timeoutMs?: number } = {}) {
    this.baseUrl = new URL(baseUrl);
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 4, ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
  }

  static forIdentity(identity: Identity, baseUrl = identity.center_url, options: { timeoutMs?: number } = {}): CenterHttp {
    return new CenterHttp(baseUrl, { ca: identity.caPem, cert: identity.certPem, key: identity.keyPem }, options);
  }

  /** Resolves with any HTTP status; rejects only when no answer came (network, TLS, deadline). */
  send<T = unknown>(method: string, path: string, body?: unknown): Promise<CenterResponse<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.baseUrl);
      const req = request(url, {
        method, agent: this.#agent, timeout: this.#timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch { /* not JSON: keep the text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (e) => reject(new DaemonEyeError('DE_ENROLL_UNREACHABLE', `cannot reach the center at ${this.baseUrl.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })));
      req.end(payload);
    });
  }

  /** Like send, but a non-2xx answer throws CenterHttpError with the center's reason. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.send<T>(method, path, body);
    if (r.status < 200 || r.status >= 300) {
      const b = r.body as { message?: string; code?: string } | null;
      throw new CenterHttpError(r.status, `the center answered HTTP ${r.status}: ${b?.message ?? JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}
