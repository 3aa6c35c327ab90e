// One process as seen by one scan. This is the typed, readonly event that leaves normalize/ and the
// row shape of the `process_snapshots` table (src/store/migrations.ts, docs/schema.md): the three
// must agree, and src/store/schema-doc.test.ts checks the table against this list of columns.
//
// Column names follow DaemonEye's published `processes` schema (pid, ppid, name, executable_path,
// command_line, start_time, cpu_usage, memory_usage, status, executable_hash, hash_algorithm,
// user_id, group_id, accessible, file_exists, collection_time, scan_id) so its rules run here.

export interface ProcessSnapshot {
  readonly pid: number;
  readonly ppid: number | null;
  /** Short name from /proc/PID/stat (comm, at most 15 bytes). */
  readonly name: string;
  /** Target of /proc/PID/exe without the " (deleted)" suffix; null when unreadable (kernel threads, EACCES). */
  readonly executable_path: string | null;
  /** argv joined with spaces; empty for kernel threads. */
  readonly command_line: string;
  /** argv as a JSON array of strings (exact, since arguments may contain spaces). */
  readonly argv: string;
  /** Wall-clock start, Unix epoch milliseconds (boot time + starttime ticks). */
  readonly start_time: number;
  /** Raw starttime in clock ticks since boot: with pid it identifies a process across pid reuse. */
  readonly start_ticks: number;
  /** Percent of one CPU since the previous scan (first scan: since the process started, as ps does). */
  readonly cpu_usage: number;
  /** Resident set size in bytes. */
  readonly memory_usage: number;
  /** State letter from /proc/PID/stat, spelled out: running, sleeping, disk_sleep, zombie, stopped, ... */
  readonly status: string;
  /** SHA-256 hex of the executable; null when not (yet) hashed: see hash_status. */
  readonly executable_hash: string | null;
  readonly hash_algorithm: string | null;
  /** ok, pending (large file hashed in the background), too_large, unreadable, none (no executable). */
  readonly hash_status: string;
  /** Real uid / gid. */
  readonly user_id: number | null;
  readonly group_id: number | null;
  readonly effective_user_id: number | null;
  readonly effective_group_id: number | null;
  readonly user_name: string | null;
  /** 0 when some of /proc/PID could not be read (permission denied); the row is still stored. */
  readonly accessible: 0 | 1;
  /** 0 when /proc/PID/exe ends in " (deleted)": the executable was removed while running. */
  readonly file_exists: 0 | 1 | null;
  readonly cwd: string | null;
  /** Controlling terminal as a device name (pts/3, tty1), null when none. */
  readonly tty: string | null;
  readonly session_id: number | null;
  readonly pgid: number | null;
  readonly threads: number | null;
  /** Namespace inode numbers from /proc/PID/ns. */
  readonly pid_ns: number | null;
  readonly mnt_ns: number | null;
  readonly net_ns: number | null;
  /** Container id parsed from /proc/PID/cgroup (docker, containerd, cri-o, podman, libpod), or null. */
  readonly container_id: string | null;
  /** Allow-listed environment variables as a JSON object (never the whole environment). */
  readonly environment: string | null;
  /** Kernel thread (no mm, child of kthreadd or pid 2 itself). */
  readonly is_kernel_thread: 0 | 1;
  /** When this row was read, Unix epoch milliseconds. */
  readonly collection_time: number;
}

/** The columns of ProcessSnapshot in table order; the store and the schema test use this list. */
export const PROCESS_SNAPSHOT_COLUMNS = [
  'pid', 'ppid', 'name', 'executable_path', 'command_line', 'argv', 'start_time', 'start_ticks',
  'cpu_usage', 'memory_usage', 'status', 'executable_hash', 'hash_algorithm', 'hash_status',
  'user_id', 'group_id', 'effective_user_id', 'effective_group_id', 'user_name', 'accessible',
  'file_exists', 'cwd', 'tty', 'session_id', 'pgid', 'threads', 'pid_ns', 'mnt_ns', 'net_ns',
  'container_id', 'environment', 'is_kernel_thread', 'collection_time',
] as const satisfies readonly (keyof ProcessSnapshot)[];
