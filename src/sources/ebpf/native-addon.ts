// Loads native/build/Release/daemoneye_bpf.node (built by scripts/build-native.sh). The addon is
// optional: a host without it (not built, wrong libbpf, not Linux) gets DE_SOURCE_UNAVAILABLE with
// the precise reason, and the agent falls back to other sources.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DaemonEyeError } from '../../errors/catalogue.ts';

export interface OpenOptions {
  /** Ring buffer bytes: a power of two, multiple of the page size. Default 8 MiB. */
  readonly ringBytes?: number;
  /** argv bytes kept per exec, at most 4096. Default 1024. */
  readonly maxArgsBytes?: number;
  /** Longest time a record waits in user space before JS sees it. Default 10. */
  readonly batchMs?: number;
  /** tgid filtered out in the kernel; defaults to this process. */
  readonly selfPid?: number;
  /** More tgids filtered out in the kernel (the agent beside the collector), at most 8. */
  readonly ignorePids?: readonly number[];
  /** Real uids whose events never leave the kernel, at most 16. */
  readonly ignoreUids?: readonly number[];
  /** When non-empty, only these real uids are reported, at most 16. */
  readonly onlyUids?: readonly number[];
  /** cgroup v2 ids (the cgroup directory's inode) filtered out, at most 16. */
  readonly ignoreCgroups?: readonly bigint[];
  /** Task names (comm, 1-15 bytes) filtered out, at most 16. */
  readonly ignoreComms?: readonly string[];
  /** A replacement BPF object built from this tree's native/bpf sources (ebpf_program_path). */
  readonly programPath?: string;
  /**
   * Batches go from the drain thread straight to the agent's socket (attachSink) as BATCH frames,
   * never to onBatch: the collector's JavaScript thread then does not wake per batch.
   */
  readonly forwardToSink?: boolean;
}

export interface SinkStats {
  readonly framesSent: number;
  readonly bytesSent: number;
  /** Frames dropped because the agent was absent or slow past the 64 MiB queue. */
  readonly framesDropped: number;
  readonly queuedBytes: number;
  /** Agent connections attached so far. */
  readonly clients: number;
}

export interface ProgramStatus {
  readonly attached: boolean;
  readonly section: string;
  readonly error?: string;
}

export interface SensorStats {
  readonly kernelDrops: number;
  readonly userDrops: number;
  readonly records: number;
  readonly batches: number;
}

interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}
interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}
export interface NativeLayout {
  readonly de_header: StructLayout;
  readonly de_exec: StructLayout;
  readonly de_fork: StructLayout;
  readonly de_exit: StructLayout;
  readonly de_conn: StructLayout;
  readonly de_sec: StructLayout;
  readonly kinds: Readonly<Record<string, number>>;
  readonly filenameMax: number;
  readonly argsCap: number;
  readonly cwdMax: number;
}

export interface BpfAddon {
  /** One sensor per process. Throws with code DE_BPF_LOAD / DE_BPF_ATTACH / DE_BPF_ARGS / DE_BPF_BUSY. */
  open(
    options: OpenOptions,
    onBatch: (batch: Buffer) => void,
  ): {
    programs: Record<string, ProgramStatus>;
    /**
     * tracefs, which the tracepoint/* hooks (security syscalls, module loads) need: 'ok' (present),
     * 'mounted' (open() mounted it at /sys/kernel/tracing) or the reason it is unavailable.
     */
    tracefs: string;
  };
  /**
   * The fallback layer when open() cannot load the BPF programs: the netlink process connector
   * (fork, exec, exit; exec details read from /proc, flagged degraded). Same batches, stats, close().
   * Throws DE_BPF_LOAD when the connector is unavailable (no CAP_NET_ADMIN, no CONFIG_PROC_EVENTS).
   */
  openProcConnector(options: Pick<OpenOptions, 'batchMs' | 'maxArgsBytes' | 'forwardToSink'>, onBatch: (batch: Buffer) => void): { layer: 'netlink' };
  stats(): SensorStats;
  /** Detaches, drains what is already in the ring, stops the worker thread. Safe to call twice. */
  close(): void;
  layout(): NativeLayout;
  /** CLOCK_BOOTTIME in ns, the clock of ktime_ns. */
  boottimeNs(): bigint;
  /** The agent's connected socket (its HELLO already sent): forwarded batches are written to it. */
  attachSink(fd: number): void;
  /** The agent went away: frames queue (bounded) for the next one. */
  detachSink(): void;
  /** An encoded frame (STATS) in order with the batches; false when the queue dropped it. */
  sendFrame(frame: Buffer): boolean;
  sinkStats(): SinkStats;
}

// src/sources/ebpf -> package root, both from src/ and from dist/ (same depth).
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ADDON_PATH = join(packageRoot, 'native', 'build', 'Release', 'daemoneye_bpf.node');

let cached: BpfAddon | undefined;

export function loadBpfAddon(path: string = ADDON_PATH): BpfAddon {
  if (cached !== undefined && path === ADDON_PATH) return cached;
  if (process.platform !== 'linux') {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `eBPF needs Linux; this is ${process.platform}`);
  }
  if (!existsSync(path)) {
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the eBPF addon is not built: ${path} does not exist`, {
      hint: 'run `npm run build:native` (needs clang, bpftool, libbpf-dev, libelf-dev, zlib1g-dev)',
    });
  }
  let addon: BpfAddon;
  try {
    addon = createRequire(import.meta.url)(path) as BpfAddon;
  } catch (e) {
    // Typically a missing libbpf.so.1/libelf.so.1 or a Node ABI mismatch: the loader's text says which.
    throw new DaemonEyeError('DE_SOURCE_UNAVAILABLE', `the eBPF addon ${path} failed to load: ${(e as Error).message}`, {
      hint: 'install libbpf1, libelf1 and zlib1g, or rebuild with `npm run build:native`',
      cause: e,
    });
  }
  if (path === ADDON_PATH) cached = addon;
  return addon;
}
