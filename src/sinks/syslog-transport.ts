// How syslog messages leave: one transport per address scheme, all behind one interface. A send
// resolves when every message was handed over: for streams, when the write callback fired without
// error (the bytes are in the kernel's send buffer: RFC 6587 and RFC 5425 have no application
// acknowledgement); for datagrams, when each was sent.
export interface SyslogTransport {
  send(messages: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** RFC 6587 section 3.4.1 octet counting ("LEN SP MSG"), which RFC 5425 requires over TLS. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * RFC 6587 section 3.4.2 non-transparent framing (a trailing LF), for local stream sockets, whose
 * readers split on LF. Line breaks inside the message are written as rsyslog writes control
 * characters (#012, #015), so one alert stays one record.
 */
export function lfTerminated(message: string): Buffer {
  return Buffer.from(`${message.replace(/\r/g, '#015').replace(/\n/g, '#012')}\n`, 'utf8');
}
