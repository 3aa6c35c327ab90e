// One scored unit: a process start, seen either by the kernel (process_exec) or by a scan
// (process_lifecycle 'start' joined to its snapshot). Models read FeatureRows; docs/analytics.md lists
// every feature with the table and column it comes from.

export interface ProcessObservation {
  /** Where the row came from: 'exec:<process_exec.id>' or 'lifecycle:<process_lifecycle.id>'. */
  readonly ref: string;
  readonly source: 'exec' | 'scan';
  readonly pid: number;
  readonly ppid: number | null;
  /** Wall-clock ms. */
  readonly start_time: number;
  /** When the facts below were read (the exec itself, or the end of the scan). */
  readonly observed_at: number;
  readonly name: string;
  readonly executable_path: string | null;
  readonly command_line: string;
  readonly parent_name: string | null;
  readonly parent_path: string | null;
  /** User name when known, else the numeric uid as text. */
  readonly user: string;
  readonly cpu_usage: number | null;
  readonly memory_usage: number | null;
  /** 0 when the executable was deleted after it started (procfs " (deleted)"). */
  readonly file_exists: boolean | null;
  /** Processes the same parent started in the 5 minutes up to this one (this one included). */
  readonly sibling_spawns_5m: number;
  /** Distinct remote address:port pairs this pid connected to between its start and observed_at. */
  readonly fan_out: number | null;
  /** Seconds from start to exit, when the process has exited. */
  readonly lifetime_s: number | null;
}

export interface FeatureRow {
  readonly numeric: Readonly<Record<string, number>>;
  readonly categorical: Readonly<Record<string, string>>;
  /** Human-readable context for explanations (names, not features). */
  readonly label: Readonly<Record<string, string>>;
}
