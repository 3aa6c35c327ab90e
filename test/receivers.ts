// Real receivers on loopback for the crash test: an HTTP endpoint (a SOC webhook) and an RFC 6587
// octet-counting syslog TCP listener (a SIEM). Unlike the sink conformance receivers
// (src/sinks/testing/), these go down and come back on the same port, as a real receiver restarting
// does, and record every alert_uuid they received so a test can count duplicates and losses.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { octetCountingReader } from '../src/sinks/testing/syslog-receiver.ts';

/**
 * Listens on `port`, or on a random port below Linux's ephemeral range (32768+) when 0, so that no
 * outgoing connection of a concurrent test can take the port while the receiver is "down".
 */
async function listen(server: Server, port: number): Promise<number> {
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

/** A receiver that can be stopped (every connection cut) and started again on the same port. */
abstract class RestartableReceiver {
  port = 0;
  /** Every alert uuid received, in order, duplicates included. */
  readonly received: string[] = [];
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  protected abstract create(): Server;

  async up(): Promise<void> {
    if (this.#server !== null) return;
    const server = this.create();
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {});
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

export class HttpReceiver extends RestartableReceiver {
  protected create(): Server {
    return createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Only the alerts' own uuids, not those of folded duplicates or other fields.
        for (const m of Buffer.concat(chunks).toString('utf8').matchAll(/"alert_uuid":"([0-9a-f-]{36})"/g)) this.received.push(m[1]!);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
  }
}

export class SyslogTcpReceiver extends RestartableReceiver {
  protected create(): Server {
    return createTcpServer((socket) => {
      socket.on('data', octetCountingReader((msg) => {
        const m = /alert_uuid="([0-9a-f-]{36})"/.exec(msg);
        if (m) this.received.push(m[1]!);
      }));
    });
  }
}
