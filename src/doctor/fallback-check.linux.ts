// The kernel layer's fallback: when eBPF cannot load, the collector serves fork/exec/exit from the
// netlink process connector. Doctor opens it for a moment, as the collector would, so an operator
// knows before an incident whether the host would still get real-time process events.
import type { CliContext } from '../cli/context.ts';
import { ADDON_PATH, loadBpfAddon } from '../sources/ebpf/native-addon.ts';
import { existsSync } from 'node:fs';
import type { CheckResult } from './check.ts';

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });

export function netlinkFallbackCheck(ctx: CliContext): CheckResult {
  const sensor = ctx.config.enterprise.kernel_monitoring.sensor;
  if (sensor === 'ebpf') return ok('netlink', 'fallback disabled (enterprise.kernel_monitoring.sensor: ebpf)');
  if (!existsSync(ADDON_PATH)) return warn('netlink', 'the kernel sensor addon is not built, so neither layer is available', 'run scripts/setup.sh');
  if (process.getuid?.() !== 0) return warn('netlink', 'the process connector needs root (CAP_NET_ADMIN)', 'run `daemoneye run` as root');
  const addon = loadBpfAddon();
  try {
    addon.openProcConnector({ batchMs: 100 }, () => {});
  } catch (e) {
    return warn('netlink', `fallback unavailable: ${(e as Error).message}`, 'without eBPF and the process connector, only procfs scans remain (short-lived processes are missed)');
  } finally {
    addon.close();
  }
  return ok('netlink', `fallback available: the process connector delivers fork/exec/exit if eBPF cannot load${sensor === 'netlink' ? ' (forced by enterprise.kernel_monitoring.sensor: netlink)' : ''}`);
}
