// A veth pair between the root namespace and a namespace the test creates, for live capture tests.
// Addresses come from TEST-NET-2 (198.51.100.0/24), one /30 per test file so files running in
// parallel do not share a route: never the host's own network. Traffic sent from the namespace to
// the root end's address crosses the veth and is captured there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface VethPair {
  readonly ns: string;
  /** The end in the root namespace (capture here). */
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  /** Sends UDP datagrams from inside the namespace to hostIp, `count` to each port, in order. */
  sendUdp(ports: readonly number[], count: number, payloadBytes?: number): void;
  cleanup(): void;
}

/** Why live tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, packet capture)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` is unavailable (iproute2)';
  return null;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** `tag` keeps parallel test files apart (interface names are at most 15 characters). */
export function createVethPair(tag: string, block: number): VethPair {
  const id = `${tag}${process.pid % 100000}`;
  const ns = `de-${id}`;
  const hostIf = `dh${id}`.slice(0, 15);
  const nsIf = `dn${id}`.slice(0, 15);
  const hostIp = `198.51.100.${block * 4 + 1}`;
  const nsIp = `198.51.100.${block * 4 + 2}`;
  const cleanup = (): void => {
    spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  cleanup();
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    // No IPv6 on the pair: router solicitations and MLD reports would mix into what tests count.
    writeFileSync(`/proc/sys/net/ipv6/conf/${hostIf}/disable_ipv6`, '1');
    execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${nsIf}/disable_ipv6`]);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
    ip('-n', ns, 'link', 'set', nsIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // Pre-resolve neighbours both ways so no ARP traffic interleaves with what tests count.
    const hostMac = readFileSync(`/sys/class/net/${hostIf}/address`, 'utf8').trim();
    ip('-n', ns, 'neigh', 'replace', hostIp, 'lladdr', hostMac, 'dev', nsIf, 'nud', 'permanent');
    const nsMac = execFileSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${nsIf}/address`], { encoding: 'utf8' }).trim();
    ip('neigh', 'replace', nsIp, 'lladdr', nsMac, 'dev', hostIf, 'nud', 'permanent');
  } catch (e) {
    cleanup();
    throw e;
  }
  return {
    ns, hostIf, nsIf, hostIp, nsIp,
    sendUdp(ports, count, payloadBytes = 100) {
      const script = `const s=require('dgram').createSocket('udp4');const ports=${JSON.stringify(ports)};let i=0;const n=${count}*ports.length;const p=Buffer.alloc(${payloadBytes},120);(function go(){if(i>=n)return s.close();const port=ports[i%ports.length];i++;s.send(p,port,${JSON.stringify(hostIp)},go);})();`;
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sender failed: ${r.stderr}`);
    },
    cleanup,
  };
}

/** IFF_PROMISC (0x100) in /sys/class/net/IF/flags. */
export function isPromiscuous(ifname: string): boolean {
  return (Number.parseInt(readFileSync(`/sys/class/net/${ifname}/flags`, 'utf8').trim(), 16) & 0x100) !== 0;
}

/** UDP destination port of an Ethernet/IPv4 frame, or -1. */
export function udpDstPort(frame: Buffer): number {
  if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 17) return -1;
  const ihl = (frame[14]! & 0x0f) * 4;
  return frame.readUInt16BE(14 + ihl + 2);
}

export const pcapAddonBuilt = (): boolean => existsSync(new URL('../native/pcap/build/Release/daemoneye_pcap.node', import.meta.url));
