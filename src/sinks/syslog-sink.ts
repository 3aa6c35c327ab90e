// Alerts as RFC 5424 syslog messages (or CEF records in the MSG part, `format: cef`) to a
// collector over UDP, TCP, TCP+TLS or the local unix socket. The transport decides what
// "acknowledged" means (syslog-transport.ts); this file only formats and picks the transport.
import { isIP, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Alert } from '../alerts/alert.ts';
import { UdpTransport } from './datagram-transport.ts';
import type { TlsMaterial } from './http-transport.ts';
import { deliveryError } from './redact.ts';
import { formatRfc5424 } from './rfc5424.ts';
import type { Sink } from './sink.ts';
import { StreamTransport } from './stream-transport.ts';
import { parseSyslogAddress, type SyslogAddress } from './syslog-address.ts';
import { octetCounted, type SyslogTransport } from './syslog-transport.ts';
import { UnixTransport } from './unix-transport.ts';

/** Datagram sockets drop what does not fit; 8 KiB is rsyslog's default maximum message size. */
export const DEFAULT_DATAGRAM_MAX_BYTES = 8192;

export interface SyslogSinkOptions {
  readonly name: string;
  /** `syslog`, or `cef` for the CEF sink sending to a syslog address. */
  readonly type?: 'syslog' | 'cef';
  readonly address: string;
  readonly format: 'rfc5424' | 'cef';
  /** Facility code 0-23 (local0 = 16). */
  readonly facility: number;
  readonly sdId: string;
  /** null: DEFAULT_DATAGRAM_MAX_BYTES on datagram sockets (UDP, unix), no limit on streams. */
  readonly maxMessageBytes: number | null;
  readonly timeoutMs: number;
  readonly tls?: TlsMaterial;
  readonly version: string;
}

function transportFor(address: SyslogAddress, o: SyslogSinkOptions, what: string): SyslogTransport {
  const target = address.text;
  switch (address.transport) {
    case 'udp':
      return new UdpTransport({ what, target, host: address.host, port: address.port });
    case 'tcp':
      return new StreamTransport({ open: () => ({ socket: tcpConnect({ host: address.host, port: address.port }), ready: 'connect' }), frame: octetCounted, timeoutMs: o.timeoutMs, what, target });
    case 'tls': {
      const tls: ConnectionOptions = {
        host: address.host, port: address.port, ...o.tls,
        // SNI must be a host name; for an IP address the certificate is checked against the IP.
        servername: o.tls?.servername ?? (isIP(address.host) ? '' : address.host),
      };
      return new StreamTransport({ open: () => ({ socket: tlsConnect(tls), ready: 'secureConnect' }), frame: octetCounted, timeoutMs: o.timeoutMs, what, target });
    }
    case 'unix':
      return new UnixTransport({ what, target, path: address.path, timeoutMs: o.timeoutMs });
  }
}

export class SyslogSink implements Sink {
  readonly type: 'syslog' | 'cef';
  readonly name: string;
  readonly address: string;
  readonly #o: SyslogSinkOptions;
  readonly #transport: SyslogTransport;
  readonly #maxBytes: number | undefined;

  constructor(o: SyslogSinkOptions) {
    this.type = o.type ?? 'syslog';
    this.name = o.name;
    this.address = o.address;
    this.#o = o;
    const address = parseSyslogAddress(o.address);
    const datagram = address.transport === 'udp' || address.transport === 'unix';
    this.#maxBytes = o.maxMessageBytes ?? (datagram ? DEFAULT_DATAGRAM_MAX_BYTES : undefined);
    this.#transport = transportFor(address, o, `${this.type} sink ${o.name}`);
  }

  #format(alert: Alert): string {
    return formatRfc5424(alert, { facility: this.#o.facility, sdId: this.#o.sdId, format: this.#o.format, version: this.#o.version, maxBytes: this.#maxBytes });
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    try {
      await this.#transport.send(alerts.map((a) => this.#format(a)));
    } catch (e) {
      throw deliveryError(e, [], `${this.type} sink ${this.name}`);
    }
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }
}
