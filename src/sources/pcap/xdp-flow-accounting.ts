// XDP flow accounting (enterprise.network_monitoring.flow_accounting: xdp): an XDP program on the
// capture interface (received packets) and a TC egress classifier (sent packets) keep per-flow
// packet and byte counters in one kernel LRU map; this class attaches them, reads the flows
// updated since the last poll, and detaches on stop. A program of ours left attached by a crash is
// removed on start; anybody else's program is never touched.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Source, SourceHealth } from '../source.ts';
import { asDaemonEyeError } from './native-pcap.ts';

type XdpHandle = { readonly __xdpHandle: unique symbol };

export interface XdpCounters {
  readonly packets: number;
  readonly bytes: number;
  readonly nonIp: number;
  readonly malformed: number;
  readonly updateFailures: number;
}

export interface XdpAddon {
  attach(ifname: string, options: { maxFlows?: number; egress?: boolean }): {
    handle: XdpHandle; ifindex: number; mode: string; programId: number;
    /** A leftover XDP program of ours that was detached first. */
    removed: { id: number; name: string } | null;
    /** A leftover TC egress filter of ours (a crashed run) that was replaced. */
    removedTc: { id: number; name: string } | null;
    /** 'ok', 'off', or why egress counting could not attach (ingress still counts). */
    egress: string;
  };
  read(handle: XdpHandle, idleNs: number): Buffer;
  counters(handle: XdpHandle): XdpCounters;
  detach(handle: XdpHandle): void;
  attached(ifname: string): { id: number; name: string; mode: string } | null;
  /** The TC egress program at DaemonEye's handle/priority, if any. */
  tcEgress(ifname: string): { id: number; name: string } | null;
  boottimeNs(): bigint;
  layout(): { recordBytes: number; programName: string; fields: Record<string, { offset: number; size: number }> };
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const XDP_ADDON_PATH = join(packageRoot, 'native', 'pcap', 'build', 'Release', 'daemoneye_xdp.node');

let cached: XdpAddon | undefined;

export function loadXdpAddon(): XdpAddon {
  if (cached !== undefined) return cached;
  if (!existsSync(XDP_ADDON_PATH)) {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the XDP flow-accounting addon is not built: ${XDP_ADDON_PATH} does not exist`, {
      hint: 'run `npm run build:native` (needs clang, bpftool, libbpf-dev and kernel BTF)',
    });
  }
  try {
    cached = createRequire(import.meta.url)(XDP_ADDON_PATH) as XdpAddon;
  } catch (e) {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the XDP addon failed to load: ${(e as Error).message}`, {
      hint: 'install libbpf1, libelf1 and zlib1g, or rebuild with `npm run build:native`', cause: e,
    });
  }
  return cached;
}

export interface XdpFlowOptions {
  readonly interface: string;
  /** LRU map size (flows kept in the kernel). Default 65536. */
  readonly maxFlows?: number;
  /** How often the map is read. Default 1000 ms. */
  readonly pollMs?: number;
  /** Flows idle this long are reported a last time and removed from the map. Default 60 s. */
  readonly idleMs?: number;
  /** Also count sent packets with a TC egress classifier. Default true. */
  readonly egress?: boolean;
}

export class XdpFlowAccounting implements Source {
  readonly name = 'xdp-flows';
  readonly mode: string;
  readonly programId: number;
  /** The leftover program removed on start, if there was one (XDP attached the old way, or a TC filter of a crashed run). */
  readonly removedLeftover: { id: number; name: string } | null;
  /** 'ok', 'off', or why sent packets are not counted. */
  readonly egress: string;
  readonly #addon: XdpAddon;
  #handle: XdpHandle | null;
  #timer: NodeJS.Timeout | null = null;
  #reads = 0;
  #records = 0;
  #error: string | null = null;
  readonly #idleNs: number;

  /** Attaches and starts polling; `onFlows` gets each non-empty read (records, flow-records.ts). Throws DE_PCAP_XDP. */
  constructor(options: XdpFlowOptions, onFlows: (records: Buffer) => void, addon: XdpAddon = loadXdpAddon()) {
    this.#addon = addon;
    this.#idleNs = (options.idleMs ?? 60_000) * 1e6;
    let attached: ReturnType<XdpAddon['attach']>;
    try {
      attached = addon.attach(options.interface, { maxFlows: options.maxFlows ?? 65536, egress: options.egress ?? true });
    } catch (e) {
      throw asDaemonEyeError(e);
    }
    this.#handle = attached.handle;
    this.mode = attached.mode;
    this.programId = attached.programId;
    this.removedLeftover = attached.removed ?? attached.removedTc;
    this.egress = attached.egress;
    this.#timer = setInterval(() => {
      const records = this.poll();
      if (records.length > 0) onFlows(records);
    }, options.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** Reads the flows updated since the last poll (also called by the timer). */
  poll(): Buffer {
    if (this.#handle === null) return Buffer.alloc(0);
    try {
      const records = this.#addon.read(this.#handle, this.#idleNs);
      this.#reads++;
      this.#records += records.length / 80;
      return records;
    } catch (e) {
      this.#error = (e as Error).message;
      return Buffer.alloc(0);
    }
  }

  boottimeNs(): bigint {
    return this.#addon.boottimeNs();
  }

  xdpCounters(): XdpCounters {
    return this.#handle === null ? { packets: 0, bytes: 0, nonIp: 0, malformed: 0, updateFailures: 0 } : this.#addon.counters(this.#handle);
  }

  health(): SourceHealth {
    if (this.#error !== null) return { state: 'degraded', reason: this.#error };
    return this.#handle === null ? { state: 'unavailable', reason: 'stopped' } : { state: 'ok' };
  }

  counters(): Readonly<Record<string, number>> {
    const c = this.xdpCounters();
    return {
      'xdp.packets': c.packets, 'xdp.bytes': c.bytes, 'xdp.non_ip': c.nonIp, 'xdp.malformed': c.malformed,
      'xdp.update_failures': c.updateFailures, 'xdp.reads': this.#reads, 'xdp.records': this.#records,
    };
  }

  /** Detaches the program (the BPF link is destroyed) and frees the map. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#handle !== null) this.#addon.detach(this.#handle);
    this.#handle = null;
  }
}
