// The interface of the default route (/proc/net/route, then /proc/net/ipv6_route), which
// capture_interface: null means; 'any' when the host has no default route.
import { readFileSync } from 'node:fs';

export function defaultRouteInterface(procNet = '/proc/net'): string {
  try {
    for (const line of readFileSync(`${procNet}/route`, 'utf8').split('\n').slice(1)) {
      const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
      if (iface && destination === '00000000' && mask === '00000000') return iface;
    }
  } catch {
    // no IPv4 routing table (a container without /proc/net): try IPv6
  }
  try {
    for (const line of readFileSync(`${procNet}/ipv6_route`, 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00' && f[9] !== 'lo') return f[9]!;
    }
  } catch {
    // neither table: fall through
  }
  return 'any';
}
