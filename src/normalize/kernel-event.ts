// Process events from the kernel layer, typed and readonly once decoded (the eBPF decoder in
// src/sources/ebpf/ produces them; ETW and EndpointSecurity will map to the same kinds). The SQL
// tables process_exec, process_fork and process_exit (docs/schema.md) hold them.

interface KernelEventBase {
  /** Wall-clock time, Unix epoch milliseconds (converted from ktimeNs). */
  readonly time: number;
  /** Kernel CLOCK_BOOTTIME nanoseconds: exact order between events. */
  readonly ktimeNs: bigint;
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly cgroupId: bigint;
  readonly comm: string;
}

export interface ExecEvent extends KernelEventBase {
  readonly kind: 'exec';
  readonly filename: string;
  readonly argv: readonly string[];
  readonly argsTruncated: boolean;
}

export interface ForkEvent extends KernelEventBase {
  readonly kind: 'fork';
  readonly childPid: number;
  readonly childTid: number;
}

export interface ExitEvent extends KernelEventBase {
  readonly kind: 'exit';
  readonly exitCode: number;
  readonly signal: number;
}

export type KernelEvent = ExecEvent | ForkEvent | ExitEvent;
