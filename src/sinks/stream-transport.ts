// Syslog over a stream: TCP, TLS (RFC 5425) or a unix stream socket. One connection, opened on
// first use and again after it broke (an error, or the receiver closing it: receivers never send,
// so an `end` means the receiver went away). A batch is one write; it is acknowledged when that
// write's callback fires. A write that does not complete within the timeout (a receiver that
// stopped reading) destroys the connection, since a partial frame would corrupt the framing.
import type { Socket } from 'node:net';
import { SinkDeliveryError } from './sink-error.ts';
import type { SyslogTransport } from './syslog-transport.ts';

/** Errors of a write on an established connection (as opposed to connecting or timing out). */
const connectionLost = new WeakSet<Error>();

export interface StreamTransportOptions {
  /** Starts a connection; `ready` is the event that says it is usable (connect or secureConnect). */
  readonly open: () => { socket: Socket; ready: 'connect' | 'secureConnect' };
  readonly frame: (message: string) => Buffer;
  readonly timeoutMs: number;
  /** `syslog sink NAME`, for messages. */
  readonly what: string;
  /** The address as configured, for messages. */
  readonly target: string;
}

export class StreamTransport implements SyslogTransport {
  readonly #o: StreamTransportOptions;
  #socket: Socket | null = null;

  constructor(o: StreamTransportOptions) {
    this.#o = o;
  }

  async send(messages: readonly string[]): Promise<void> {
    if (messages.length === 0) return;
    const data = Buffer.concat(messages.map(this.#o.frame));
    const reused = this.#socket !== null;
    try {
      await this.#write(await this.#connection(), data);
    } catch (e) {
      // A kept connection that the receiver dropped between batches fails on first write (EPIPE,
      // ECONNRESET): reconnect once. The receiver may get part of the batch twice: alert_uuid
      // tells duplicates apart.
      if (!reused || !connectionLost.has(e as Error)) throw e;
      await this.#write(await this.#connection(), data);
    }
  }

  #fail(why: string, cause?: unknown): SinkDeliveryError {
    return new SinkDeliveryError(`${this.#o.what}: ${why}`, { retryable: true, cause });
  }

  #drop(socket: Socket): void {
    if (this.#socket === socket) this.#socket = null;
    socket.destroy();
  }

  /** Concurrent sends share one connection attempt. */
  #connecting: Promise<Socket> | null = null;

  #connection(): Promise<Socket> {
    const live = this.#socket;
    if (live !== null && !live.destroyed && live.writable) return Promise.resolve(live);
    this.#connecting ??= this.#connect().finally(() => { this.#connecting = null; });
    return this.#connecting;
  }

  #connect(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const { socket, ready } = this.#o.open();
      // Errors are handled through the listeners below and the write callbacks; this one only
      // keeps a late second error from being an uncaught exception.
      socket.on('error', () => {});
      const timer = setTimeout(() => {
        this.#drop(socket);
        reject(this.#fail(`no connection to ${this.#o.target} within ${this.#o.timeoutMs} ms`));
      }, this.#o.timeoutMs);
      const failed = (e: Error) => {
        clearTimeout(timer);
        this.#drop(socket);
        reject(this.#fail(`cannot connect to ${this.#o.target}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, e));
      };
      socket.once('error', failed);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', failed);
        // From here on, a broken connection is forgotten and the next send reconnects.
        socket.on('error', () => this.#drop(socket));
        socket.on('end', () => this.#drop(socket));
        socket.on('close', () => this.#drop(socket));
        socket.resume();
        // An idle sink must not keep the process alive; a write in progress holds its own timer.
        socket.unref();
        this.#socket = socket;
        resolve(socket);
      });
    });
  }

  #write(socket: Socket, data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#drop(socket);
        reject(this.#fail(`${this.#o.target} did not take the batch within ${this.#o.timeoutMs} ms`));
      }, this.#o.timeoutMs);
      socket.write(data, (err) => {
        clearTimeout(timer);
        if (!err) return resolve();
        this.#drop(socket);
        const lost = this.#fail(`connection lost to ${this.#o.target}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, err);
        connectionLost.add(lost);
        reject(lost);
      });
    });
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    await new Promise<void>((resolve) => {
      socket.end(() => resolve());
      setTimeout(resolve, 1000).unref();
    });
    socket.destroy();
  }
}
