// Real receivers on loopback for delivery tests: an HTTP endpoint (a SOC webhook) and an RFC 6587
// octet-counting syslog TCP listener (a SIEM). Each can go down and come back on the same port, and
// records every alert_uuid it received, so a test can count duplicates and losses.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';

/**
 * Listens on `port`, or on a random port below Linux's ephemeral range (32768+) when 0, so that no
 * outgoing connection of a concurrent test can take the port while the receiver is "down".
 */
async function listen(server: HttpServer | TcpServer, port: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const p = port !== 0 ? port : 20_000 + Math.floor(Math.random() * 10_000);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export interface Receiver {
  readonly port: number;
  /** Every alert uuid received, in order, duplicates included. */
  readonly received: string[];
  up(): Promise<void>;
  down(): Promise<void>;
}

export class HttpReceiver implements Receiver {
  port = 0;
  readonly received: string[] = [];
  readonly idempotencyKeys: string[] = [];
  #server: HttpServer | null = null;
  #sockets = new Set<Socket>();

  async up(): Promise<void> {
    if (this.#server !== null) return;
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // Only the uuids of the alerts themselves, not of folded duplicates or other fields.
        for (const m of body.matchAll(/"alert_uuid":"([0-9a-f-]{36})"/g)) this.received.push(m[1]!);
        const key = req.headers['idempotency-key'];
        if (typeof key === 'string') this.idempotencyKeys.push(key);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.port = await listen(server, this.port);
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export class SyslogTcpReceiver implements Receiver {
  port = 0;
  readonly received: string[] = [];
  readonly messages: string[] = [];
  #server: TcpServer | null = null;
  #sockets = new Set<Socket>();

  async up(): Promise<void> {
    if (this.#server !== null) return;
    const server = createTcpServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // RFC 6587 octet counting: "LEN SP MSG", repeated.
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 1) break;
          const len = Number(buf.subarray(0, sp).toString('ascii'));
          if (!Number.isInteger(len) || buf.length < sp + 1 + len) break;
          const msg = buf.subarray(sp + 1, sp + 1 + len).toString('utf8');
          buf = buf.subarray(sp + 1 + len);
          this.messages.push(msg);
          const sd = /\[[^\]]*alert_uuid="([0-9a-f-]{36})"/.exec(msg) ?? msg.match(UUID);
          if (sd) this.received.push(sd[1] ?? sd[0]);
        }
      });
    });
    this.port = await listen(server, this.port);
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
