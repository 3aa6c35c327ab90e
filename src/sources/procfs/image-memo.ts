// Facts that only change when a process exec's a new program, remembered per program image so a
// steady-state scan does not re-read them (each procfs read costs kernel time: ~7 µs for environ).
//
// - environment: the initial environment block is set by execve. The image is identified by pid,
//   start ticks and the stack/argument/environment addresses from stat (imageMarker), which execve
//   re-randomises. A process that rewrites its own block in place is not re-read: the value from
//   when it was first seen is what its loader acted on (LD_PRELOAD), and that is what we keep.
// - exe path: the link text changes when the file is renamed or deleted, which changes its ctime
//   (and nlink), and when the executable is replaced (PR_SET_MM_EXE_FILE), which changes dev/ino;
//   so the path is re-read whenever stat of /proc/PID/exe differs in any of those.

interface Entry {
  startTicks: number;
  seen: number;
  imageMarker: string;
  environment: string | undefined;
  exeKey: string;
  exePath: string;
  fileExists: 0 | 1;
}

export class ImageMemo {
  readonly #entries = new Map<number, Entry>();
  #generation = 0;

  beginScan(): void {
    this.#generation++;
  }

  /** Drops the processes not seen since beginScan: the map stays the size of the process table. */
  endScan(): void {
    for (const [pid, e] of this.#entries) if (e.seen !== this.#generation) this.#entries.delete(pid);
  }

  /** The remembered environment JSON of this image, or undefined when it must be read. */
  environment(pid: number, startTicks: number, imageMarker: string): string | undefined {
    if (imageMarker === '') return undefined;
    const e = this.#entry(pid, startTicks);
    return e.imageMarker === imageMarker ? e.environment : undefined;
  }

  rememberEnvironment(pid: number, startTicks: number, imageMarker: string, environment: string): void {
    if (imageMarker === '') return;
    const e = this.#entry(pid, startTicks);
    e.imageMarker = imageMarker;
    e.environment = environment;
  }

  /** The remembered [path, file_exists] for this stat key of /proc/PID/exe, or undefined. */
  exe(pid: number, startTicks: number, exeKey: string): readonly [string, 0 | 1] | undefined {
    const e = this.#entry(pid, startTicks);
    return e.exeKey === exeKey ? [e.exePath, e.fileExists] : undefined;
  }

  rememberExe(pid: number, startTicks: number, exeKey: string, path: string, fileExists: 0 | 1): void {
    const e = this.#entry(pid, startTicks);
    e.exeKey = exeKey;
    e.exePath = path;
    e.fileExists = fileExists;
  }

  #entry(pid: number, startTicks: number): Entry {
    let e = this.#entries.get(pid);
    if (e === undefined || e.startTicks !== startTicks) {
      // New pid, or a reused one: nothing remembered applies.
      e = { startTicks, seen: 0, imageMarker: '', environment: undefined, exeKey: '', exePath: '', fileExists: 1 };
      this.#entries.set(pid, e);
    }
    e.seen = this.#generation;
    return e;
  }
}
