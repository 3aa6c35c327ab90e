// Real syslog collectors on loopback: TCP and TLS with RFC 6587 octet counting, UDP, and unix
// datagram and stream sockets. Each records the messages it got; TCP/TLS ones can be told to
// hang (accept, never read) to test timeouts.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { testPki } from './test-cert.ts';

export interface SyslogReceiver {
  readonly messages: string[];
  readonly address: string;
  /** Resolves once `n` messages have arrived (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<string[]>;
  close(): Promise<void>;
}

abstract class Base {
  readonly messages: string[] = [];
  #waiters: (() => void)[] = [];

  protected got(message: string): void {
    this.messages.push(message);
    for (const w of this.#waiters) w();
  }

  waitFor(n: number, ms = 5000): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length < n) return false;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(this.messages.slice());
        return true;
      };
      const timer = setTimeout(() => reject(new Error(`got ${this.messages.length} of ${n} messages`)), ms);
      if (!check()) this.#waiters.push(check);
    });
  }
}

/** Reads "LEN SP MSG" frames out of a byte stream. */
export function octetCountingReader(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const sp = buf.indexOf(0x20);
      if (sp < 1) return;
      const lenText = buf.subarray(0, sp).toString('ascii');
      if (!/^[1-9]\d*$/.test(lenText)) throw new Error(`bad octet count ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (buf.length < sp + 1 + len) return;
      onMessage(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      buf = buf.subarray(sp + 1 + len);
    }
  };
}

export class StreamSyslogReceiver extends Base implements SyslogReceiver {
  readonly address: string;
  readonly sockets = new Set<Socket>();
  readonly #server: TcpServer;
  /** Accept connections but never read from them. */
  hang = false;

  private constructor(server: TcpServer, address: string) {
    super();
    this.#server = server;
    this.address = address;
  }

  static async start(kind: 'tcp' | 'tls' | 'unix', options: { path?: string; hang?: boolean } = {}): Promise<StreamSyslogReceiver> {
    const pki = testPki();
    let r!: StreamSyslogReceiver;
    const onSocket = (s: Socket) => {
      r.sockets.add(s);
      s.on('close', () => r.sockets.delete(s));
      s.on('error', () => {});
      if (r.hang) return s.pause();
      const read = kind === 'unix' ? lfReader((m) => r.got(m)) : octetCountingReader((m) => r.got(m));
      s.on('data', read);
    };
    // A hanging TLS receiver is a TCP server that never answers the handshake.
    const server = kind === 'tls' && !options.hang
      ? createTlsServer({ key: pki.serverKey, cert: pki.serverCert }, onSocket)
      : createTcpServer(onSocket);
    server.on('tlsClientError', () => {});
    if (kind === 'unix') {
      await new Promise<void>((resolve) => server.listen(options.path!, resolve));
    } else {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    const port = kind === 'unix' ? 0 : (server.address() as { port: number }).port;
    const address = kind === 'unix' ? `unix://${options.path}` : `${kind === 'tls' ? 'tcp+tls' : 'tcp'}://127.0.0.1:${port}`;
    r = new StreamSyslogReceiver(server, address);
    r.hang = options.hang === true;
    return r;
  }

  /** Cuts every open connection (a collector restart), keeping the listener. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function lfReader(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onMessage(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
}

export class UdpSyslogReceiver extends Base implements SyslogReceiver {
  readonly address: string;
  readonly #socket: UdpSocket;

  private constructor(socket: UdpSocket, address: string) {
    super();
    this.#socket = socket;
    this.address = address;
  }

  static async start(): Promise<UdpSyslogReceiver> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const r = new UdpSyslogReceiver(socket, `udp://127.0.0.1:${socket.address().port}`);
    socket.on('message', (m) => r.got(m.toString('utf8')));
    return r;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

interface UnixDgramServer { on(e: 'message', l: (m: Buffer) => void): void; bind(path: string): void; close(): void }

/** A /dev/log stand-in: a unix datagram socket, through the optional unix-dgram package. */
export class UnixDgramSyslogReceiver extends Base implements SyslogReceiver {
  readonly address: string;
  readonly #socket: UnixDgramServer;

  private constructor(socket: UnixDgramServer, address: string) {
    super();
    this.#socket = socket;
    this.address = address;
  }

  static start(path: string): UnixDgramSyslogReceiver {
    const mod = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): UnixDgramServer };
    const socket = mod.createSocket('unix_dgram');
    const r = new UnixDgramSyslogReceiver(socket, `unix://${path}`);
    socket.on('message', (m) => r.got(m.toString('utf8')));
    socket.bind(path);
    return r;
  }

  async close(): Promise<void> {
    this.#socket.close();
  }
}
