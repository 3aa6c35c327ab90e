// `udp://host:port`, `tcp://host:port`, `tcp+tls://host:port`, `unix:///path` (config syntax).
import { DaemonEyeError } from '../errors/catalogue.ts';

export type SyslogAddress =
  | { readonly transport: 'udp' | 'tcp' | 'tls'; readonly host: string; readonly port: number; readonly text: string }
  | { readonly transport: 'unix'; readonly path: string; readonly text: string };

export function parseSyslogAddress(text: string): SyslogAddress {
  const unix = /^unix:\/\/(\/.+)$/.exec(text);
  if (unix) return { transport: 'unix', path: unix[1]!, text };
  const m = /^(udp|tcp|tcp\+tls):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65_535) {
    throw new DaemonEyeError('DE_SINK_CONFIG', `syslog address ${JSON.stringify(text)} is not udp://HOST:PORT, tcp://HOST:PORT, tcp+tls://HOST:PORT or unix:///PATH`);
  }
  const transport = m[1] === 'tcp+tls' ? 'tls' : (m[1] as 'udp' | 'tcp');
  return { transport, host: m[2]!.replace(/^\[|\]$/g, ''), port, text };
}
