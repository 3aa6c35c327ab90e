// Community ID v1 (github.com/corelight/community-id-spec): base64(sha1(seed, saddr, daddr, proto,
// 0, sport, dport)) with the endpoints ordered so both directions hash alike. Zeek, Suricata and
// Wireshark print the same string, so flows here can be joined with their logs.
import { createHash } from 'node:crypto';
import { IPPROTO } from './decode/packet.ts';

/** Four u32 words of an address in text form (the decoder's layout: IPv4 as ::ffff:a.b.c.d). */
export function addressWords(text: string): [number, number, number, number] {
  if (!text.includes(':')) {
    const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
    return [0, 0, 0xffff, ((a << 24) | (b << 16) | (c << 8) | d) >>> 0];
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const g = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t].map((x) => parseInt(x, 16) || 0);
  return [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}

export function communityId(ipVersion: number, protocol: number,
  a: readonly [number, number, number, number], aPort: number, b: readonly [number, number, number, number], bPort: number): string | null {
  if (protocol !== IPPROTO.TCP && protocol !== IPPROTO.UDP) return null;
  const addrLen = ipVersion === 4 ? 4 : 16;
  const buf = Buffer.alloc(2 + addrLen * 2 + 2 + 4);
  const put = (w: readonly number[], at: number) => {
    if (addrLen === 4) buf.writeUInt32BE(w[3]! >>> 0, at);
    else for (let i = 0; i < 4; i++) buf.writeUInt32BE(w[i]! >>> 0, at + i * 4);
  };
  let swap = false;
  for (let i = 0; i < 4; i++) {
    if ((a[i]! >>> 0) !== (b[i]! >>> 0)) { swap = (a[i]! >>> 0) > (b[i]! >>> 0); break; }
    if (i === 3) swap = aPort > bPort;
  }
  const [x, xp, y, yp] = swap ? [b, bPort, a, aPort] : [a, aPort, b, bPort];
  let at = 2;
  put(x, at); at += addrLen;
  put(y, at); at += addrLen;
  buf[at] = protocol;
  buf[at + 1] = 0;
  buf.writeUInt16BE(xp, at + 2);
  buf.writeUInt16BE(yp, at + 4);
  return `1:${createHash('sha1').update(buf).digest('base64')}`;
}
