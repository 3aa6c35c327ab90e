// The kernel-layer checks of the other platforms, and Linux-only checks made honest elsewhere: on
// Windows or macOS a procfs or eBPF check says "not this platform" instead of failing.
import type { CliContext } from '../cli/context.ts';
import type { CheckResult } from './check.ts';
import { endpointSecurityCheck } from './checks.darwin.ts';
import { etwCheck } from './checks.windows.ts';

export function platformKernelChecks(ctx: CliContext): CheckResult[] {
  return [etwCheck(ctx), endpointSecurityCheck(ctx)];
}

/** Checks of Linux facilities (procfs and who may read it, the eBPF sensor, the netlink fallback);
 * elevation and root for the other kernel layers are checked by etw / eslogger themselves. */
const LINUX_ONLY: ReadonlySet<string> = new Set(['procfs', 'privileges', 'kernel', 'ebpf', 'netlink']);

export function linuxOnly(result: CheckResult, platform: NodeJS.Platform = process.platform): CheckResult {
  if (platform === 'linux' || !LINUX_ONLY.has(result.name)) return result;
  return { name: result.name, status: 'ok', detail: `not this platform (${platform}): a Linux check` };
}
