// The collector's packet side: opens the capture handle (and the XDP flow program when
// flow_accounting is xdp) with root privileges, and forwards batches UNCHANGED to the agent over
// the packet socket (PACKETS frames) with pcap_stats (STATS) and flow counters (FLOWS). Decoding
// happens unprivileged in the agent. Packets have a socket of their own so a burst of traffic can
// never queue ahead of kernel events; when the agent is slow, whole batches beyond the server's
// queue are dropped and counted (pcap_forward_dropped).
import type { Command } from 'commander';
import { CollectorServer } from '../../collector/collector-server.ts';
import type { Logger } from '../../agent/logger.ts';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { CONTENT_FILTER } from './content-filter.ts';
import { defaultRouteInterface } from './default-interface.linux.ts';
import { LiveCapture, snaplenFor } from './live-capture.ts';
import { XdpFlowAccounting } from './xdp-flow-accounting.ts';

type NetworkConfig = DaemonEyeConfig['enterprise']['network_monitoring'];

export interface CollectorCaptureSettings {
  readonly interface: string;
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferMb: number;
  readonly flowAccounting: 'off' | 'xdp';
  readonly socketPath: string;
}

/** The collector flags of the capture side (the agent passes its effective settings with them). */
export interface CollectorCaptureFlags {
  capture?: boolean;
  captureInterface?: string;
  captureFilter?: string;
  snaplen?: string;
  captureBufferMb?: string;
  flowAccounting?: string;
  packetSocket?: string;
}

export function addCollectorCaptureOptions(cmd: Command): Command {
  return cmd
    .option('--capture', 'also open the packet capture (default: enterprise.network_monitoring.enable_packet_capture)')
    .option('--capture-interface <name>', 'interface to capture on (default: capture_interface, else the default route\'s)')
    .option('--capture-filter <expr>', 'BPF capture filter (default: capture_filter)')
    .option('--snaplen <bytes>', 'bytes kept per packet, link header included (default: max_packet_size + 64)')
    .option('--capture-buffer-mb <n>', 'kernel capture buffer in MiB (default: buffer_size_mb)')
    .option('--flow-accounting <mode>', 'off | xdp (default: flow_accounting)')
    .option('--packet-socket <path>', 'Unix socket for packet batches (default: DATA_DIR/collector-net.sock)');
}

/** The flags `daemoneye run` gives the collector it starts, from the agent's effective config. */
export function collectorCaptureArgs(n: NetworkConfig): string[] {
  if (!n.enable_packet_capture) return [];
  return [
    '--capture',
    ...(n.capture_interface === null ? [] : ['--capture-interface', n.capture_interface]),
    ...(n.capture_filter === null ? [] : ['--capture-filter', n.capture_filter]),
    '--snaplen', String(snaplenFor(n.max_packet_size)), '--capture-buffer-mb', String(n.buffer_size_mb),
    '--flow-accounting', n.flow_accounting,
  ];
}

function int(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new DaemonEyeError('DE_USAGE', `${flag} must be a positive integer, got '${value}'`);
  return n;
}

/** Effective settings from flags over config; null when capture is not enabled. */
export function collectorCaptureSettings(flags: CollectorCaptureFlags, n: NetworkConfig, defaultSocket: string): CollectorCaptureSettings | null {
  if (flags.capture !== true && !n.enable_packet_capture) return null;
  const flowAccounting = flags.flowAccounting ?? n.flow_accounting;
  if (flowAccounting !== 'off' && flowAccounting !== 'xdp') throw new DaemonEyeError('DE_USAGE', `--flow-accounting must be off or xdp, got '${flowAccounting}'`);
  const iface = flags.captureInterface ?? n.capture_interface ?? defaultRouteInterface();
  // With XDP counting every packet, user space needs only what is decoded for content.
  const filter = flags.captureFilter ?? n.capture_filter ?? (flowAccounting === 'xdp' ? CONTENT_FILTER : '');
  return {
    interface: iface, filter, flowAccounting,
    snaplen: int(flags.snaplen, snaplenFor(n.max_packet_size), '--snaplen'),
    bufferMb: int(flags.captureBufferMb, n.buffer_size_mb, '--capture-buffer-mb'),
    socketPath: flags.packetSocket ?? defaultSocket,
  };
}

export class CollectorCapture {
  readonly #server: CollectorServer;
  readonly #capture: LiveCapture;
  readonly #xdp: XdpFlowAccounting | null;
  readonly #stats: NodeJS.Timeout;

  private constructor(server: CollectorServer, capture: LiveCapture, xdp: XdpFlowAccounting | null, statsMs: number) {
    this.#server = server;
    this.#capture = capture;
    this.#xdp = xdp;
    this.#stats = setInterval(() => this.sendStats(), statsMs);
  }

  /** Opens the packet socket, the capture and (xdp) the flow program; undoes what it did on failure. */
  static async start(s: CollectorCaptureSettings, log: Logger, statsMs = 1000): Promise<CollectorCapture> {
    let xdp: XdpFlowAccounting | null = null;
    let capture: LiveCapture | null = null;
    // The clock anchor converts XDP boot-time stamps; packets carry wall-clock pcap stamps already.
    const server = new CollectorServer({ socketPath: s.socketPath, clock: () => ({ boottimeNs: xdp?.boottimeNs() ?? 0n, wallMs: Date.now() }) });
    await server.listen();
    try {
      if (s.flowAccounting === 'xdp') {
        xdp = new XdpFlowAccounting({ interface: s.interface }, (records) => server.offerFlows(records));
        if (xdp.removedLeftover !== null) log.warn('removed an XDP program left attached by an earlier run', { interface: s.interface, program_id: xdp.removedLeftover.id });
        log.info('xdp flow accounting attached', { interface: s.interface, mode: xdp.mode, program_id: xdp.programId, egress: xdp.egress });
      }
      capture = new LiveCapture({ interface: s.interface, filter: s.filter, snaplen: s.snaplen, bufferMb: s.bufferMb }, {
        onBatch: (b) => server.offerPackets(b.linktype, b.data),
        onEnd: (error) => log.error('packet capture stopped', { interface: s.interface, reason: error?.message ?? 'ended' }),
      });
      if (capture.warning) log.warn('packet capture warning', { interface: s.interface, warning: capture.warning });
      log.info('packet capture open', { interface: s.interface, linktype: capture.linktype, filter: s.filter.length > 80 ? `${s.filter.slice(0, 77)}...` : s.filter, socket: s.socketPath });
    } catch (e) {
      await capture?.stop();
      await xdp?.stop();
      await server.close();
      throw e;
    }
    return new CollectorCapture(server, capture, xdp, statsMs);
  }

  sendStats(): void {
    const p = this.#capture.stats();
    const x = this.#xdp?.xdpCounters();
    this.#server.sendStats({
      pcap_received: p.received, pcap_dropped_kernel: p.droppedKernel, pcap_dropped_interface: p.droppedInterface,
      pcap_delivered: p.delivered, pcap_bytes: p.bytes, pcap_user_drops: p.userDrops,
      ...(x === undefined ? {} : { xdp_packets: x.packets, xdp_bytes: x.bytes, xdp_non_ip: x.nonIp, xdp_malformed: x.malformed }),
    });
  }

  /** Stops the capture (promiscuous mode off), sends the final flows and stats, detaches XDP. */
  async stop(): Promise<void> {
    clearInterval(this.#stats);
    await this.#capture.stop();
    if (this.#xdp !== null) {
      const last = this.#xdp.poll();
      if (last.length > 0) this.#server.offerFlows(last);
    }
    this.sendStats();
    await this.#xdp?.stop();
    await this.#server.close();
  }
}
