// `unix:///path`: the local syslog socket. /dev/log is a datagram socket on Linux (rsyslog,
// syslog-ng, journald), but syslog-ng can also listen on a stream socket. Which one the path is
// shows only on connecting: a stream connect to a datagram socket fails with EPROTOTYPE. The kind
// found is used until a send fails, then found again (the daemon may have been replaced).
import { connect } from 'node:net';
import { UnixDatagramTransport } from './datagram-transport.ts';
import { SinkDeliveryError } from './sink-error.ts';
import { StreamTransport } from './stream-transport.ts';
import { lfTerminated, type SyslogTransport } from './syslog-transport.ts';

export class UnixTransport implements SyslogTransport {
  readonly #o: { readonly what: string; readonly target: string; readonly path: string; readonly timeoutMs: number };
  #inner: SyslogTransport | null = null;

  constructor(o: { what: string; target: string; path: string; timeoutMs: number }) {
    this.#o = o;
  }

  async send(messages: readonly string[]): Promise<void> {
    this.#inner ??= await this.#detect();
    try {
      await this.#inner.send(messages);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Stream or datagram, by trying a stream connection. */
  #detect(): Promise<SyslogTransport> {
    const { path, what, target, timeoutMs } = this.#o;
    return new Promise<SyslogTransport>((resolve, reject) => {
      const probe = connect({ path });
      const timer = setTimeout(() => {
        probe.destroy();
        reject(new SinkDeliveryError(`${what}: no connection to ${target} within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      probe.once('connect', () => {
        clearTimeout(timer);
        probe.destroy();
        resolve(new StreamTransport({ open: () => ({ socket: connect({ path }), ready: 'connect' }), frame: lfTerminated, timeoutMs, what, target }));
      });
      probe.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        probe.destroy();
        if (e.code === 'EPROTOTYPE') return resolve(new UnixDatagramTransport({ what, target, path }));
        reject(new SinkDeliveryError(`${what}: cannot connect to ${target}: ${e.code ?? e.message}`, { retryable: true, cause: e }));
      });
    });
  }

  async close(): Promise<void> {
    const inner = this.#inner;
    this.#inner = null;
    await inner?.close();
  }
}
