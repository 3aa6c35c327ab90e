// Process events from the kernel layer, typed and readonly once decoded (the eBPF decoder in
// src/sources/ebpf/records.ts produces them; ETW and EndpointSecurity will map to the same kinds).
// The SQL tables process_exec, process_fork and process_exit (docs/schema.md) hold them.

export interface EventBase {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  /** cgroup v2 inode id; bigint because it is a u64 the kernel may fill past 2^53. */
  readonly cgroupId: bigint;
  readonly comm: string;
  /** CLOCK_BOOTTIME nanoseconds; see boot-clock.ts for wall clock. */
  readonly ktimeNs: bigint;
}

export interface ExecEvent extends EventBase {
  readonly kind: 'exec';
  readonly filename: string;
  readonly argv: readonly string[];
  /** argv was cut at maxArgsBytes; the last element may be partial. */
  readonly argsTruncated: boolean;
  /** Working directory at exec; null when the platform or the kernel could not tell. */
  readonly cwd?: string | null;
  /** Process start on the event clock (ktimeNs's clock), when the platform reports it. */
  readonly startNs?: bigint;
  /** The executed file's modification time in Unix seconds (0 or absent: unknown). */
  readonly exeMtimeSec?: number;
  /**
   * The details (filename, argv, cwd, ids) were read from /proc after the event rather than seen by
   * the kernel hook (the netlink fallback): a process that was already gone has them empty.
   */
  readonly degraded?: boolean;
}

export interface ForkEvent extends EventBase {
  readonly kind: 'fork';
  readonly childPid: number;
  readonly childTid: number;
}

export interface ExitEvent extends EventBase {
  readonly kind: 'exit';
  readonly exitCode: number;
  readonly signal: number;
}

export type KernelEvent = ExecEvent | ForkEvent | ExitEvent | ConnectionEvent;


/**
 * A TCP socket changing state, from tp_btf/inet_sock_set_state: `connect` (CLOSE → SYN_SENT, in the
 * connecting process), `listen` (CLOSE → LISTEN, in the listening process) and `accept` (SYN_RECV →
 * ESTABLISHED on the server side). Accept happens in softirq context where the current task is
 * whoever was interrupted, so its pid/comm are 0/'' rather than a wrong attribution.
 */
export interface ConnectionEvent extends EventBase {
  readonly kind: 'connection';
  readonly event: 'connect' | 'accept' | 'listen';
  readonly family: 4 | 6;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/**
 * A security-relevant syscall seen at entry (it may still fail): ptrace attach, kernel module load,
 * memfd_create, and memory mapped or re-protected writable and executable at once (code injection).
 */
export interface SecurityEvent extends EventBase {
  readonly kind: 'security';
  /**
   * image_load (Windows ETW: an executable image mapped into targetPid; arg0 base, arg1 size, name path)
   * and signal (macOS EndpointSecurity: signal arg0 sent to targetPid) come from the other platforms'
   * kernel layers (docs/platforms.md).
   */
  readonly op: 'ptrace_attach' | 'module_load' | 'memfd_create' | 'mprotect_wx' | 'mmap_wx' | 'image_load' | 'signal';
  readonly targetPid: number;
  readonly arg0: bigint;
  readonly arg1: bigint;
  readonly name: string;
}
