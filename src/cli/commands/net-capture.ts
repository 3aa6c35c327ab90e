// `daemoneye net capture`: live capture through libpcap, with a running packet and drop counter on
// stderr and an optional pcap file (written by libpcap's pcap_dump on the capture thread, so what
// tcpdump/wireshark read is byte for byte what was captured). Settings default to
// enterprise.network_monitoring; flags override them.
import type { Command } from 'commander';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { forEachPacket } from '../../sources/pcap/batch-format.ts';
import { LiveCapture, snaplenFor, type CaptureStats } from '../../sources/pcap/live-capture.ts';
import { loadPcapAddon } from '../../sources/pcap/native-pcap.ts';
import { defaultRouteInterface } from '../../sources/pcap/default-interface.linux.ts';
import { buildContext, type GlobalOptions } from '../context.ts';

interface CaptureOptions {
  interface?: string;
  filter?: string;
  count?: string;
  write?: string;
  duration?: string;
  snaplen?: string;
  bufferMb?: string;
  promisc: boolean;
  format?: string;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new DaemonEyeError('DE_USAGE', `${flag} must be a positive integer, got '${value}'`);
  return n;
}

function counterLine(s: CaptureStats, seen: number, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const drops = s.droppedKernel + s.droppedInterface + s.userDrops;
  return `${seen} packets (${Math.round(seen / secs)}/s), ${(s.bytes / 1e6).toFixed(1)} MB, dropped ${drops} (kernel ${s.droppedKernel}, interface ${s.droppedInterface})`;
}

export function registerNetCapture(net: Command): void {
  net
    .command('capture')
    .description('capture packets live with libpcap, showing a running packet and drop counter')
    .option('-i, --interface <name>', 'interface to capture on; `any` for all (default: capture_interface, else the default route\'s)')
    .option('--filter <expr>', 'BPF capture filter, pcap-filter(7) syntax (default: capture_filter)')
    .option('--count <n>', 'stop after this many packets')
    .option('-w, --write <file>', 'write the packets to a pcap file (readable by tcpdump, Wireshark, `daemoneye net read`); `-` for stdout')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--snaplen <bytes>', 'bytes kept per packet, link header included (default: max_packet_size + 64 = 1564)')
    .option('--buffer-mb <n>', 'kernel capture buffer in MiB (default: buffer_size_mb, 100)')
    .option('--no-promisc', 'do not put the interface in promiscuous mode')
    .option('-f, --format <format>', 'summary format: text | json')
    .addHelpText('after', `
Needs root (or CAP_NET_RAW + CAP_NET_ADMIN). The interface is in promiscuous
mode only while the capture runs. Stops at --count, --duration or Ctrl-C, then
prints what libpcap received and what was dropped (by the kernel buffer, by
the interface). Payloads are only written when you ask for --write.

Examples:
  sudo daemoneye net capture -i eth0 --filter "udp port 53" --count 100
  sudo daemoneye net capture -i eth0 --filter "tcp port 443" -w /tmp/tls.pcap --duration 60
  sudo daemoneye net capture --format json --duration 10      # default route's interface, JSON summary
  sudo daemoneye net capture -i any --filter "port 53" -w /tmp/dns.pcap   # every interface (cooked headers)
  sudo daemoneye net capture -i eth0 --count 50 -w - | tshark -r -          # pcap on stdout`)
    .action(async (opts: CaptureOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = opts.format ?? global.format ?? 'text';
      if (format !== 'text' && format !== 'json') throw new DaemonEyeError('DE_USAGE', `--format must be text or json, got '${format}'`);
      const ctx = buildContext(global);
      const n = ctx.config.enterprise.network_monitoring;
      const count = positiveInt(opts.count, '--count');
      const duration = positiveInt(opts.duration, '--duration');
      const iface = opts.interface ?? n.capture_interface ?? defaultRouteInterface();
      const filter = opts.filter ?? n.capture_filter ?? '';
      const addon = loadPcapAddon();

      let seen = 0;
      let finish: (error?: DaemonEyeError) => void = () => {};
      const done = new Promise<DaemonEyeError | undefined>((resolve) => (finish = resolve));
      const capture = new LiveCapture({
        interface: iface,
        filter,
        snaplen: positiveInt(opts.snaplen, '--snaplen') ?? snaplenFor(n.max_packet_size),
        bufferMb: positiveInt(opts.bufferMb, '--buffer-mb') ?? n.buffer_size_mb,
        promiscuous: opts.promisc,
        ...(count === undefined ? {} : { maxPackets: count }),
        ...(opts.write === undefined ? {} : { writePath: opts.write }),
        addon,
      }, {
        onBatch: (b) => (seen += forEachPacket(b.data, () => {}).packets),
        onEnd: (error) => finish(error),
      });
      const linkName = addon.linktypeName(capture.linktype) ?? String(capture.linktype);
      process.stderr.write(`capturing on ${iface} (link type ${linkName}${filter ? `, filter "${filter}"` : ''})${capture.warning ? `; warning: ${capture.warning}` : ''}\n`);

      const started = Date.now();
      const tty = process.stderr.isTTY === true;
      // A terminal gets one line rewritten in place; a log gets a line every 5 s.
      const ticker = setInterval(() => {
        const line = counterLine(capture.stats(), seen, started);
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      }, tty ? 500 : 5000);
      const timer = duration === undefined ? undefined : setTimeout(() => finish(), duration * 1000);
      const onSignal = (): void => finish();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const error = await done;
      clearInterval(ticker);
      if (timer !== undefined) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await capture.stop();
      const s = capture.stats();
      if (tty) process.stderr.write(`\r\x1b[K${counterLine(s, seen, started)}\n`);
      const summary = {
        interface: iface, linktype: capture.linktype, linktype_name: linkName, filter,
        packets: seen, bytes: s.bytes, received: s.received,
        dropped_kernel: s.droppedKernel, dropped_interface: s.droppedInterface, dropped_user: s.userDrops,
        seconds: (Date.now() - started) / 1000,
        ...(opts.write === undefined ? {} : { written: opts.write }),
      };
      // With -w - the packets own stdout: the summary goes to stderr.
      const out = opts.write === '-' ? process.stderr : process.stdout;
      if (format === 'json') out.write(`${JSON.stringify(summary)}\n`);
      else {
        out.write(`${seen} packets captured on ${iface}${opts.write === undefined ? '' : `, written to ${opts.write === '-' ? 'stdout' : opts.write}`}\n`);
        out.write(`${s.received} received by filter, ${s.droppedKernel} dropped by kernel, ${s.droppedInterface} dropped by interface\n`);
      }
      if (error !== undefined) throw error;
    });
}
