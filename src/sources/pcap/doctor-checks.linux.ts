// `daemoneye doctor` checks for packet capture: the addon, the interface, the filter (compiled for
// the interface's link type, with the column at fault), privileges, and XDP. Each check says what
// it saw and how to fix it; none opens a capture, so doctor never touches promiscuous mode.
import { existsSync, readFileSync } from 'node:fs';
import type { CheckResult } from '../../doctor/check.ts';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import { isDaemonEyeError } from '../../errors/catalogue.ts';
import { LinkType } from './batch-format.ts';
import { CONTENT_FILTER } from './content-filter.ts';
import { defaultRouteInterface } from './default-interface.linux.ts';
import { checkCaptureFilter } from './filter-check.ts';
import { loadPcapAddon, type PcapAddon } from './native-pcap.ts';
import { loadXdpAddon, type XdpAddon } from './xdp-flow-accounting.ts';

type NetworkConfig = DaemonEyeConfig['enterprise']['network_monitoring'];

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

/** The DLT libpcap gives an interface, from its ARPHRD type (/sys/class/net/IF/type). */
export function linktypeOf(iface: string, sysNet = '/sys/class/net'): number {
  if (iface === 'any') return LinkType.LINUX_SLL;
  try {
    const arphrd = Number(readFileSync(`${sysNet}/${iface}/type`, 'utf8').trim());
    // ARPHRD_ETHER and ARPHRD_LOOPBACK capture as Ethernet; ARPHRD_NONE (tun, wireguard) as raw IP.
    if (arphrd === 1 || arphrd === 772) return LinkType.EN10MB;
    if (arphrd === 65534) return LinkType.RAW;
  } catch {
    // unknown: Ethernet is the common case
  }
  return LinkType.EN10MB;
}

export interface CaptureDoctorHost {
  readonly sysNet?: string;
  readonly uid?: number;
  readonly pcap?: () => PcapAddon;
  readonly xdp?: () => XdpAddon;
}

export function captureChecks(n: NetworkConfig, host: CaptureDoctorHost = {}): CheckResult[] {
  if (!n.enable_packet_capture) return [ok('packet_capture', 'off (enterprise.network_monitoring.enable_packet_capture)')];
  const sysNet = host.sysNet ?? '/sys/class/net';
  const results: CheckResult[] = [];
  let addon: PcapAddon;
  try {
    addon = (host.pcap ?? loadPcapAddon)();
    results.push(ok('capture_addon', addon.libVersion()));
  } catch (e) {
    return [fail('capture_addon', (e as Error).message, 'run `npm run build:native` (needs libpcap-dev)')];
  }

  const iface = n.capture_interface ?? defaultRouteInterface();
  if (iface !== 'any' && !existsSync(`${sysNet}/${iface}`)) {
    results.push(fail('capture_interface', `${iface} does not exist`, 'set enterprise.network_monitoring.capture_interface to one of `ip -br link`, or `any`'));
  } else if (iface !== 'any') {
    const state = readFileSync(`${sysNet}/${iface}/operstate`, 'utf8').trim();
    results.push(state === 'down'
      ? warn('capture_interface', `${iface} is down`, `bring it up: ip link set ${iface} up`)
      : ok('capture_interface', `${iface} (${state}${n.capture_interface === null ? ', the default route\'s' : ''})`));
  } else results.push(ok('capture_interface', 'any (all interfaces, no promiscuous mode)'));

  const filter = n.capture_filter ?? (n.flow_accounting === 'xdp' ? CONTENT_FILTER : '');
  try {
    checkCaptureFilter(filter, linktypeOf(iface, sysNet), addon);
    results.push(ok('capture_filter', n.capture_filter === null ? (filter === '' ? 'none: every packet' : 'the XDP-mode content filter') : `"${filter}" compiles`));
  } catch (e) {
    if (!isDaemonEyeError(e, 'DE_PCAP_FILTER')) throw e;
    results.push(fail('capture_filter', e.message, 'fix enterprise.network_monitoring.capture_filter (pcap-filter(7) syntax)'));
  }

  const uid = host.uid ?? process.getuid?.() ?? 0;
  results.push(uid === 0
    ? ok('capture_privileges', 'root: the collector can open the capture')
    : warn('capture_privileges', `uid ${uid} cannot capture`, 'run `daemoneye run` as root: its collector opens the capture and the agent stays unprivileged'));

  if (n.flow_accounting === 'xdp') {
    try {
      const xdp = (host.xdp ?? loadXdpAddon)();
      const attached = iface === 'any' ? null : xdp.attached(iface);
      if (iface === 'any') results.push(fail('xdp_flows', 'XDP needs a named interface, not any', 'set capture_interface, or flow_accounting: off'));
      else if (attached === null) results.push(ok('xdp_flows', `no XDP program on ${iface} yet: ours attaches at start`));
      else if (attached.name === xdp.layout().programName) results.push(warn('xdp_flows', `a DaemonEye XDP program (id ${attached.id}) is attached to ${iface}`, 'if no collector runs, it is a leftover: the next start removes it'));
      else results.push(fail('xdp_flows', `${iface} runs another XDP program (${attached.name}, id ${attached.id}, ${attached.mode})`, 'DaemonEye will not replace it: detach it or set flow_accounting: off'));
    } catch (e) {
      results.push(fail('xdp_flows', (e as Error).message, 'run `npm run build:native` as root on a kernel with BTF, or set flow_accounting: off'));
    }
  }
  return results;
}
