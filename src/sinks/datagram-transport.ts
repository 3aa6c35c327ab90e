// Syslog over datagrams: UDP (RFC 5426) or a unix datagram socket such as /dev/log. A message is
// "acknowledged" once sent: datagrams have no delivery feedback, except that a connected socket
// reports ECONNREFUSED on a later send when nothing listens (an ICMP port unreachable on UDP, a
// missing peer on unix sockets), which fails that send and so the batch.
//
// Node has no unix datagram sockets. They come from `unix-dgram` (an optional dependency: a small
// addon by a Node core maintainer, compiled from source at install, no binary download). Without it, a unix
// datagram address fails with a non-retryable error that says to install it.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { SinkDeliveryError } from './sink-error.ts';
import type { SyslogTransport } from './syslog-transport.ts';

interface DatagramOptions {
  readonly what: string;
  readonly target: string;
}

export class UdpTransport implements SyslogTransport {
  readonly #o: DatagramOptions & { readonly host: string; readonly port: number };
  #socket: UdpSocket | null = null;

  constructor(o: DatagramOptions & { host: string; port: number }) {
    this.#o = o;
  }

  #fail(why: string, cause?: unknown): SinkDeliveryError {
    return new SinkDeliveryError(`${this.#o.what}: ${why}`, { retryable: true, cause });
  }

  #opening: Promise<UdpSocket> | null = null;

  #open(): Promise<UdpSocket> {
    if (this.#socket) return Promise.resolve(this.#socket);
    this.#opening ??= this.#create().finally(() => { this.#opening = null; });
    return this.#opening;
  }

  async #create(): Promise<UdpSocket> {
    let resolved;
    try {
      resolved = await lookup(this.#o.host);
    } catch (e) {
      throw this.#fail(`cannot resolve ${this.#o.target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, e);
    }
    const socket = createSocket(resolved.family === 6 ? 'udp6' : 'udp4');
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(this.#o.port, resolved.address, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      socket.close();
      throw this.#fail(`cannot reach ${this.#o.target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, e);
    });
    socket.on('error', () => this.#drop(socket));
    socket.unref();
    this.#socket = socket;
    return socket;
  }

  #drop(socket: UdpSocket): void {
    if (this.#socket === socket) this.#socket = null;
    try {
      socket.close();
    } catch { /* already closed */ }
  }

  async send(messages: readonly string[]): Promise<void> {
    if (messages.length === 0) return;
    const socket = await this.#open();
    for (const m of messages) {
      await new Promise<void>((resolve, reject) => {
        socket.send(Buffer.from(m, 'utf8'), (err) => {
          if (!err) return resolve();
          // EMSGSIZE cannot succeed on retry; everything else (ECONNREFUSED: nothing listening) may.
          const code = (err as NodeJS.ErrnoException).code;
          reject(new SinkDeliveryError(`${this.#o.what}: sending to ${this.#o.target} failed: ${code ?? err.message}`, { retryable: code !== 'EMSGSIZE', cause: err }));
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.#socket) this.#drop(this.#socket);
  }
}

/** The parts of unix-dgram's socket this module uses. */
interface UnixDgramSocket {
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): void;
  on(event: 'connect' | 'writable', listener: () => void): void;
  removeAllListeners(): void;
  connect(path: string): void;
  send(buf: Buffer, callback: (err?: Error & { code?: unknown }) => void): void;
  close(): void;
}
interface UnixDgramModule { createSocket(type: 'unix_dgram'): UnixDgramSocket }

let unixDgram: UnixDgramModule | null | undefined;

/** unix-dgram if installed (it is optional), else null. */
export function loadUnixDgram(): UnixDgramModule | null {
  if (unixDgram === undefined) {
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
    } catch {
      unixDgram = null;
    }
  }
  return unixDgram;
}

export class UnixDatagramTransport implements SyslogTransport {
  readonly #o: DatagramOptions & { readonly path: string };
  #socket: UnixDgramSocket | null = null;

  constructor(o: DatagramOptions & { path: string }) {
    this.#o = o;
  }

  #open(): UnixDgramSocket {
    if (this.#socket) return this.#socket;
    const mod = loadUnixDgram();
    if (mod === null) {
      throw new SinkDeliveryError(
        `${this.#o.what}: ${this.#o.target} is a datagram socket, which needs the optional package unix-dgram (npm install unix-dgram), or use a tcp:// or udp:// address`,
        { retryable: false });
    }
    const socket = mod.createSocket('unix_dgram');
    let failed: NodeJS.ErrnoException | undefined;
    // unix-dgram reports connect() results synchronously, through these events.
    socket.on('error', (e) => { failed = e; });
    socket.connect(this.#o.path);
    if (failed !== undefined) {
      socket.close();
      throw new SinkDeliveryError(`${this.#o.what}: cannot connect to ${this.#o.target}: ${errnoName(failed)}`, { retryable: true });
    }
    this.#socket = socket;
    return socket;
  }

  async send(messages: readonly string[]): Promise<void> {
    const socket = this.#open();
    for (const m of messages) {
      const err = await new Promise<(Error & { code?: unknown }) | undefined>((resolve) => socket.send(Buffer.from(m, 'utf8'), resolve));
      if (err) {
        // The daemon restarted (a new socket at the path) or its queue is full ("congestion").
        await this.close();
        throw new SinkDeliveryError(`${this.#o.what}: sending to ${this.#o.target} failed: ${errnoName(err)}`, { retryable: true });
      }
    }
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.removeAllListeners();
    try {
      socket.close();
    } catch { /* already closed */ }
  }
}

/** unix-dgram's errors carry a negative errno as `code`, or 1 for congestion. */
function errnoName(e: Error & { code?: unknown }): string {
  if (e.code === 1) return 'congestion (the receiver is not keeping up)';
  if (typeof e.code === 'number') {
    const errno = -e.code;
    return Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
  }
  return e.message;
}
