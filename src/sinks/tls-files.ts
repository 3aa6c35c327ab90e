// TLS material named in config (ca_file, cert_file, key_file) read once, when the sink is built,
// so a wrong path fails at start-up with DE_SINK_CONFIG rather than on every delivery.
import { readFileSync } from 'node:fs';
import { DaemonEyeError } from '../errors/catalogue.ts';
import type { TlsMaterial } from './http-transport.ts';

export interface TlsFiles {
  readonly ca_file?: string | undefined;
  readonly cert_file?: string | undefined;
  readonly key_file?: string | undefined;
}

function read(sink: string, key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new DaemonEyeError('DE_SINK_CONFIG', `sink ${sink}: cannot read ${key} ${file}: ${code}`, { cause: e });
  }
}

/** The PEM contents, or undefined when no TLS key is set (system CAs, no client certificate). */
export function readTlsFiles(sink: string, files: TlsFiles, servername?: string): TlsMaterial | undefined {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } = {};
  if (files.ca_file !== undefined) out.ca = read(sink, 'ca_file', files.ca_file);
  if (files.cert_file !== undefined) out.cert = read(sink, 'cert_file', files.cert_file);
  if (files.key_file !== undefined) out.key = read(sink, 'key_file', files.key_file);
  if (servername !== undefined) out.servername = servername;
  return Object.keys(out).length === 0 ? undefined : out;
}
