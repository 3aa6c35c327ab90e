// Reads procfs files with synchronous calls into one reused buffer. A scan reads ~10 small files per
// process for thousands of processes: a promise and a fresh buffer per file cost more than the read.
// Failures are reported through `error` (the errno code) instead of exceptions leaving this class, so
// the scanner can tell "exited" (ENOENT, ESRCH) from "not allowed" (EACCES, EPERM).
import { closeSync, openSync, readSync, readlinkSync } from 'node:fs';

export class ProcReader {
  #buf: Buffer;
  readonly #maxBytes: number;
  /** errno code of the last call that returned null ('ENOENT', 'EACCES', ...). */
  error = '';
  /** True when the last readText stopped at maxBytes. */
  truncated = false;

  /** maxBytes bounds one file (cmdline and environ can be megabytes); the buffer grows up to it. */
  constructor(maxBytes = 4 * 1024 * 1024, initialBytes = 64 * 1024) {
    this.#maxBytes = Math.max(maxBytes, 1);
    this.#buf = Buffer.allocUnsafe(Math.min(initialBytes, this.#maxBytes));
  }

  /** The file as UTF-8 (invalid bytes become U+FFFD), or null with `error` set. */
  readText(path: string): string | null {
    const n = this.#readAll(path);
    return n < 0 ? null : this.#buf.toString('utf8', 0, n);
  }

  /** The link's target, or null with `error` set. */
  readLink(path: string): string | null {
    try {
      return readlinkSync(path);
    } catch (e) {
      this.error = errnoCode(e);
      return null;
    }
  }

  #readAll(path: string): number {
    this.truncated = false;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      this.error = errnoCode(e);
      return -1;
    }
    try {
      let n = 0;
      for (;;) {
        const want = this.#buf.length - n;
        const got = readSync(fd, this.#buf, n, want, null);
        n += got;
        // procfs hands over everything that fits in one read, so a short read is the end of the file;
        // this saves the extra read() that would return 0 for each of ~10 files per process.
        if (got < want) return n;
        if (this.#buf.length >= this.#maxBytes) {
          this.truncated = true;
          return n;
        }
        const bigger = Buffer.allocUnsafe(Math.min(this.#buf.length * 2, this.#maxBytes));
        this.#buf.copy(bigger, 0, 0, n);
        this.#buf = bigger;
      }
    } catch (e) {
      this.error = errnoCode(e);
      return -1;
    } finally {
      closeSync(fd);
    }
  }
}

export function errnoCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** The process is gone (or, for some files, a zombie with no memory left to read). */
export function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH';
}

export function isDenied(code: string): boolean {
  return code === 'EACCES' || code === 'EPERM';
}
