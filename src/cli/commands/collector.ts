// `daemoneye collector`: the privileged half of the agent. It loads the eBPF programs, then serves
// raw record batches over a 0600 Unix socket, and does nothing else: no network, no database, no
// rules. `daemoneye run` as root starts it itself; under a service manager it runs on its own.
import { Option, type Command } from 'commander';
import { CollectorServer } from '../../collector/collector-server.ts';
import { DaemonEyeError, isDaemonEyeError } from '../../errors/catalogue.ts';
import { loadBpfAddon } from '../../sources/ebpf/native-addon.ts';
import { sensorOptions } from '../../sources/ebpf/sensor-options.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { collectorPacketSocketPath, collectorSocketPath } from '../../collector/socket-path.ts';
import { addCollectorCaptureOptions, CollectorCapture, collectorCaptureSettings, type CollectorCaptureFlags } from '../../sources/pcap/collector-capture.ts';

export function registerCollector(program: Command): void {
  const collector = program
    .command('collector')
    .description('the privileged half of the agent: load the eBPF sensor and serve kernel events to `daemoneye run` over a Unix socket')
    .option('--socket <path>', 'Unix socket to serve on (default: DATA_DIR/collector.sock)')
    .option('--ring-mb <n>', 'kernel ring buffer size in MiB, a power of two (default: enterprise.kernel_monitoring.ring_buffer_mb, 8)')
    .option('--batch-ms <n>', 'batching window in milliseconds (default: batch_window_ms, 10)')
    .option('--max-args-bytes <n>', 'argv bytes kept per exec (default: max_args_bytes, 1024)')
    .option('--ignore-pid <pid...>', 'process ids whose events never leave the kernel (`daemoneye run` passes its own)')
    .addOption(new Option('--sensor <layer>', 'auto: eBPF, else the netlink process connector; none: packets only (default: enterprise.kernel_monitoring.sensor)').choices(['auto', 'ebpf', 'netlink', 'none']))
    .option('--program <file>', 'a replacement BPF object built from this release (default: ebpf_program_path, else the built-in one)')
    .addHelpText('after', `
Needs root (CAP_BPF and CAP_PERFMON). It opens no network connection and no database.
In-kernel filters (ignore by name, uid, cgroup) come from enterprise.kernel_monitoring.filters.

Examples:
  sudo daemoneye collector                         # serve on DATA_DIR/collector.sock
  sudo daemoneye collector --socket /run/daemoneye/collector.sock --ring-mb 16
  sudo daemoneye collector --sensor netlink        # no eBPF: fork/exec/exit from the process connector
  sudo daemoneye collector --capture --capture-interface eth0 --flow-accounting xdp   # + packets on collector-net.sock`)
    .action(async (opts: { socket?: string; ringMb?: string; batchMs?: string; maxArgsBytes?: string; ignorePid?: string[]; program?: string; sensor?: 'auto' | 'ebpf' | 'netlink' | 'none' } & CollectorCaptureFlags, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      if (process.getuid?.() !== 0) {
        throw new DaemonEyeError('DE_BPF_LOAD', 'the collector must run as root to load eBPF programs', { hint: 'run it with sudo, or run `daemoneye run` as root' });
      }
      const addon = loadBpfAddon();
      // The addon's drain thread writes batches to the agent's socket itself (native/src/sink.c).
      const server = new CollectorServer({
        socketPath: opts.socket ?? collectorSocketPath(ctx.dataDir),
        clock: () => ({ boottimeNs: addon.boottimeNs(), wallMs: Date.now() }),
        nativeSink: addon,
      });
      const k = ctx.config.enterprise.kernel_monitoring;
      const ignorePids = (opts.ignorePid ?? []).map((p) => {
        const n = Number(p);
        if (!Number.isInteger(n) || n <= 0) throw new DaemonEyeError('DE_USAGE', `--ignore-pid ${p}: not a process id`);
        return n;
      });
      const sensor = opts.sensor ?? k.sensor;
      const options = {
        ...sensorOptions(k, { selfPid: process.pid, ignorePids }),
        ringBytes: Number(opts.ringMb ?? k.ring_buffer_mb) * 1024 * 1024, batchMs: Number(opts.batchMs ?? k.batch_window_ms),
        maxArgsBytes: Number(opts.maxArgsBytes ?? k.max_args_bytes), forwardToSink: true,
        ...(opts.program === undefined ? {} : { programPath: opts.program }),
      };
      // The sensor opens before the socket listens, so the HELLO an agent gets names the layer really serving.
      let ebpfError: DaemonEyeError | null = null;
      if (sensor !== 'netlink' && sensor !== 'none') {
        try {
          const opened = addon.open(options, (batch) => server.offer(batch));
          for (const [name, p] of Object.entries(opened.programs)) {
            if (p.attached) ctx.log.info('hook attached', { program: name, section: p.section });
            else ctx.log.warn('hook not attached', { program: name, section: p.section, reason: p.error ?? '' });
          }
        } catch (e) {
          if (sensor === 'ebpf' || !(isDaemonEyeError(e, 'DE_BPF_LOAD') || isDaemonEyeError(e, 'DE_BPF_ATTACH') || (e as { code?: string }).code?.startsWith('DE_BPF_'))) throw e;
          ebpfError = e as DaemonEyeError;
        }
      }
      if (sensor === 'none') {
        ctx.log.info('process events off (--sensor none): serving packets only');
      } else if (sensor === 'netlink' || ebpfError !== null) {
        if (ebpfError !== null) ctx.log.warn('eBPF sensor unavailable; falling back to the netlink process connector (degraded)', { reason: ebpfError.message.slice(0, 500) });
        addon.openProcConnector(options, (batch) => server.offer(batch));
        server.sensor = 'netlink';
        ctx.log.info('sensor active', { layer: 'netlink', events: 'fork, exec, exit (exec details from /proc)' });
      } else {
        server.sensor = 'ebpf';
      }
      await server.listen();
      ctx.log.info('collector serving', { socket: opts.socket ?? collectorSocketPath(ctx.dataDir), pid: process.pid });
      // Packets on a socket of their own (src/sources/pcap/collector-capture.ts); kernel events go on without them if capture cannot open.
      const captureSettings = collectorCaptureSettings(opts, ctx.config.enterprise.network_monitoring, collectorPacketSocketPath(ctx.dataDir));
      const capture = captureSettings === null ? null : await CollectorCapture.start(captureSettings, ctx.log).catch((e: Error) => {
        ctx.log.error('packet capture unavailable', { interface: captureSettings.interface, reason: e.message });
        return null;
      });
      const stats = setInterval(() => {
        const s = addon.stats();
        server.sendStats({ kernel_drops: s.kernelDrops, user_drops: s.userDrops, records: s.records, batches: s.batches });
      }, 5000);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
        // The agent that started us went away: a collector without its agent has no job.
        process.once('disconnect', resolve);
      });
      clearInterval(stats);
      await capture?.stop();
      addon.close();
      await server.close();
      ctx.log.info('collector stopped');
      // Started by an agent: drop the IPC channel so nothing keeps this process alive.
      if (process.connected) process.disconnect();
    });
  addCollectorCaptureOptions(collector);
}
