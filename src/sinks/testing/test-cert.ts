// A throw-away certificate authority for TLS tests, made with the openssl CLI (node:crypto makes
// keys but not X.509 certificates): a CA, a server certificate for 127.0.0.1/localhost and a
// client certificate, all signed by the CA, in a temp dir. Made once per test process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

let made: TestPki | undefined;

export function testPki(): TestPki {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'daemoneye-pki-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=DaemonEye test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'daemoneye-agent'}`);
    ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`);
  }
  const f = (n: string) => join(dir, n);
  made = {
    dir, caFile: f('ca.pem'), ca: readFileSync(f('ca.pem')),
    serverCert: readFileSync(f('server.pem')), serverKey: readFileSync(f('server.key')),
    clientCertFile: f('client.pem'), clientKeyFile: f('client.key'),
  };
  return made;
}
