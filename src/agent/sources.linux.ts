// Which process source runs on Linux. procfs polling is the baseline every Linux host has; the eBPF
// kernel source (when enterprise.kernel_monitoring.enable_ebpf) is added beside it, not instead.
import type { DaemonEyeConfig } from '../config/schema.ts';
import { ProcfsScanner } from '../sources/procfs/procfs-scanner.linux.ts';
import type { SnapshotSource } from '../sources/source.ts';

const MiB = 1024 * 1024;

export function createSnapshotSource(config: DaemonEyeConfig): SnapshotSource {
  const c = config.collection;
  return new ProcfsScanner({
    environmentAllowList: c.env_allowlist,
    hashing: c.hash_executables
      ? { inlineMaxBytes: c.hash_inline_max_mb * MiB, maxBytes: c.hash_max_mb * MiB }
      : { inlineMaxBytes: 0, maxBytes: 0 },
  });
}
