// The eBPF sensor's open() options from the effective configuration (and the collector's flags):
// ring, batch window, argv size, in-kernel filters and an optional replacement object. Cgroup paths
// become cgroup ids here, because the kernel only knows the id (the directory's inode).
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { OpenOptions } from './native-addon.ts';
import { cgroup2Root } from './cgroup-resolver.linux.ts';

type KernelMonitoring = DaemonEyeConfig['enterprise']['kernel_monitoring'];

export function cgroupId(path: string, root = cgroup2Root() ?? '/sys/fs/cgroup'): bigint {
  const abs = isAbsolute(path) ? path : join(root, path);
  try {
    const st = statSync(abs, { bigint: true });
    if (!st.isDirectory()) throw new Error('not a directory');
    return st.ino;
  } catch (e) {
    throw new DaemonEyeError('DE_CONFIG_INVALID', `enterprise.kernel_monitoring.filters.ignore_cgroups: ${abs} is not a cgroup directory (${(e as Error).message})`, {
      hint: 'name a directory of the cgroup v2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts), e.g. system.slice/backup.service; `systemd-cgls` lists them',
    });
  }
}

export function sensorOptions(k: KernelMonitoring, extra: { selfPid: number; ignorePids?: readonly number[] }): OpenOptions {
  const f = k.filters;
  return {
    ringBytes: k.ring_buffer_mb * 1024 * 1024,
    batchMs: k.batch_window_ms,
    maxArgsBytes: k.max_args_bytes,
    selfPid: extra.selfPid,
    ignorePids: [...new Set(extra.ignorePids ?? [])].slice(0, 8),
    ignoreComms: f.ignore_comms,
    ignoreUids: f.ignore_uids,
    onlyUids: f.only_uids,
    ignoreCgroups: f.ignore_cgroups.map((p) => cgroupId(p)),
    ...(k.ebpf_program_path === null ? {} : { programPath: k.ebpf_program_path }),
  };
}
