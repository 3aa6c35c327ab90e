// Real traffic for the network tests: small DNS (UDP and TCP), TLS (node:tls, SNI and ALPN), HTTP
// and SSH-banner servers on loopback, driven by real clients while tcpdump writes what the kernel
// carried. The decoders are then checked against tshark on the same file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { once } from 'node:events';
import { testPki } from '../src/sinks/testing/test-cert.ts';

export function haveTools(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to capture on loopback';
  for (const t of ['tcpdump', 'tshark']) if (spawnSync('which', [t]).status !== 0) return `${t} is not installed`;
  return null;
}

/** Runs tshark on a file and returns its rows (tab-separated fields). */
export function tshark(file: string, args: readonly string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

export async function startTcpdump(iface: string, file: string, filter: string, extra: readonly string[] = []): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn('tcpdump', ['-i', iface, '-U', '--immediate-mode', '-B', '8192', '-n', '-s', '0', ...extra, '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return async () => {
    await new Promise((r) => setTimeout(r, 300)); // let the last packets reach the file
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  };
}

// ---- DNS: a tiny authoritative server with compression pointers in its answers ----

export const DNS_ADDRESS = '127.0.0.77';

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

export function dnsQuery(id: number, name: string, type: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

/** Answers: A/AAAA for *.example.test, a CNAME chain for www.*, NXDOMAIN for nx.*. */
export function dnsAnswer(query: Buffer): Buffer {
  const id = query.readUInt16BE(0);
  let at = 12;
  const labels: string[] = [];
  while (query[at]! > 0) {
    labels.push(query.toString('latin1', at + 1, at + 1 + query[at]!));
    at += 1 + query[at]!;
  }
  const qtype = query.readUInt16BE(at + 1);
  const name = labels.join('.');
  const question = query.subarray(12, at + 5);
  const rr = (type: number, rdata: Buffer, namePtr = 0xc00c) => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(namePtr, 0);
    b.writeUInt16BE(type, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt32BE(300, 6);
    b.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([b, rdata]);
  };
  const answers: Buffer[] = [];
  let rcode = 0;
  if (name.startsWith('nx.')) rcode = 3;
  else if (name.startsWith('www.')) {
    // www.X CNAME X (pointer to offset 12 + 4 = the question name without "www."), then X A.
    answers.push(rr(5, Buffer.from([0xc0, 16])));
    answers.push(rr(1, Buffer.from([192, 0, 2, 80]), 0xc010));
  } else if (qtype === 1) answers.push(rr(1, Buffer.from([198, 51, 100, 7])), rr(1, Buffer.from([198, 51, 100, 8])));
  else if (qtype === 28) answers.push(rr(28, Buffer.from('20010db8000000000000000000000053', 'hex')));
  else if (qtype === 16) answers.push(rr(16, Buffer.concat([Buffer.from([11]), Buffer.from('v=spf1 -all')])));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x8180 | rcode, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  return Buffer.concat([h, question, ...answers]);
}

export interface DnsServer { close(): Promise<void> }

export async function startDnsServer(address = DNS_ADDRESS): Promise<DnsServer> {
  const udp = createSocket('udp4');
  udp.on('message', (m, r) => udp.send(dnsAnswer(m), r.port, r.address));
  udp.bind(53, address);
  await once(udp, 'listening');
  const tcp = createNetServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const a = dnsAnswer(msg);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length);
        s.write(Buffer.concat([len, a]));
      }
    });
    s.on('error', () => {});
  });
  tcp.listen(53, address);
  await once(tcp, 'listening');
  return { close: async () => { udp.close(); await new Promise((r) => tcp.close(r)); } };
}

export async function udpDns(names: readonly [string, number][], address = DNS_ADDRESS): Promise<void> {
  const s = createSocket('udp4');
  let id = 0x1000;
  for (const [name, type] of names) {
    const got = once(s, 'message');
    s.send(dnsQuery(id++, name, type), 53, address);
    await Promise.race([got, new Promise((r) => setTimeout(r, 2000))]);
  }
  s.close();
}

export async function tcpDns(name: string, type: number, address = DNS_ADDRESS): Promise<void> {
  const s = netConnect(53, address);
  await once(s, 'connect');
  const q = dnsQuery(0x7777, name, type);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(q.length);
  s.write(Buffer.concat([len, q]));
  await once(s, 'data');
  s.end();
  await once(s, 'close');
}

// ---- TLS, HTTP, SSH ----

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export interface LoopbackServers {
  readonly tlsPort: number;
  readonly httpPort: number;
  readonly http6Port: number;
  readonly sshPort: number;
  close(): Promise<void>;
}

export async function startServers(): Promise<LoopbackServers> {
  const pki = testPki();
  const tlsServer = createTlsServer({ key: pki.serverKey, cert: pki.serverCert, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
    s.on('error', () => {});
    s.end('hello over tls\n');
  });
  const httpHandler = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain', connection: 'close' });
    res.end('ok\n');
  };
  const httpServer = createHttpServer(httpHandler);
  const http6Server = createHttpServer(httpHandler);
  const sshServer = createNetServer((s) => {
    s.on('error', () => {});
    s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    s.once('data', () => s.end());
  });
  const servers: Server[] = [tlsServer, httpServer, http6Server, sshServer];
  const [tlsPort, httpPort, http6Port, sshPort] = [await listen(tlsServer, '127.0.0.1'), await listen(httpServer, '127.0.0.1'),
    await listen(http6Server, '::1'), await listen(sshServer, '127.0.0.1')];
  return {
    tlsPort: tlsPort!, httpPort: httpPort!, http6Port: http6Port!, sshPort: sshPort!,
    close: async () => {
      for (const s of servers) {
        s.close();
        (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }
    },
  };
}

export async function tlsClient(port: number, servername: string | undefined, alpn: string[]): Promise<void> {
  const s = tlsConnect({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
  s.on('error', () => {});
  await once(s, 'secureConnect');
  s.resume();
  await once(s, 'end').catch(() => {});
  s.destroy();
}

export async function httpGet(host: string, port: number, path: string, userAgent: string, method = 'GET'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, headers: { 'user-agent': userAgent, host: `svc.example.test:${port}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function sshBanner(port: number): Promise<void> {
  const s = netConnect(port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'data');
  s.write('SSH-2.0-DaemonEyeTest_1.0\r\n');
  await once(s, 'close');
}

/** The traffic the decode tests compare: every kind of server, one pcap per link type. */
export async function generateTraffic(files: { iface: string; file: string; extra?: string[] }[]): Promise<LoopbackServers> {
  const dns = await startDnsServer();
  const servers = await startServers();
  const filter = `host ${DNS_ADDRESS} or port ${servers.tlsPort} or port ${servers.httpPort} or port ${servers.http6Port} or port ${servers.sshPort}`;
  const stops = [];
  for (const f of files) stops.push(await startTcpdump(f.iface, f.file, filter, f.extra));
  try {
    await udpDns([['example.test', 1], ['v6.example.test', 28], ['www.example.test', 1], ['nx.example.test', 1], ['txt.example.test', 16],
      ['aGVsbG8gd29ybGQgdGhpcyBpcyBhIHR1bm5lbA.t.example.test', 16]]);
    await tcpDns('tcp.example.test', 1);
    await tlsClient(servers.tlsPort, 'tls.example.test', ['h2', 'http/1.1']);
    await tlsClient(servers.tlsPort, undefined, []); // to an IP: Node sends no SNI
    await httpGet('127.0.0.1', servers.httpPort, '/index.html?token=secret', 'DaemonEyeTest/1.0 (+curl-like)');
    await httpGet('127.0.0.1', servers.httpPort, '/missing', 'python-requests/2.31', 'POST');
    await httpGet('::1', servers.http6Port, '/v6', 'DaemonEyeTest/1.0');
    await sshBanner(servers.sshPort);
  } finally {
    for (const stop of stops) await stop();
    await dns.close();
    await servers.close();
  }
  return servers;
}
