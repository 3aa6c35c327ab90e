// A real HTTPS server on 127.0.0.1 standing in for a webhook endpoint, Splunk HEC or
// Elasticsearch: records every request (gzip bodies decoded) and answers as the test says
// (a status, or hang: never answer).
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { testPki } from './test-cert.ts';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The bytes as sent. */
  readonly raw: Buffer;
  /** The bytes after Content-Encoding: gzip is undone. */
  readonly body: Buffer;
  /** Whether the client presented a certificate the server's CA signed. */
  readonly clientAuthorized: boolean;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export class HttpsReceiver {
  readonly requests: RecordedRequest[] = [];
  reply: (req: RecordedRequest) => Reply = () => ({ status: 200, body: '{}' });
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(options: { requireClientCert?: boolean } = {}): Promise<HttpsReceiver> {
    const pki = testPki();
    const server = createServer({
      key: pki.serverKey, cert: pki.serverCert, ca: pki.ca,
      requestCert: options.requireClientCert === true, rejectUnauthorized: options.requireClientCert === true,
    });
    const r = new HttpsReceiver(server);
    server.on('connection', (s: Socket) => {
      r.#sockets.add(s);
      s.on('close', () => r.#sockets.delete(s));
    });
    server.on('tlsClientError', () => {});
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const rec: RecordedRequest = {
          method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body,
          clientAuthorized: (req.socket as { authorized?: boolean }).authorized === true,
        };
        r.requests.push(rec);
        const reply = r.reply(rec);
        if (reply === 'hang') return;
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  url(path = ''): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
