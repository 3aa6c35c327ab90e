// SHA-256 of process executables, read through /proc/PID/exe so a binary deleted after it started
// (a classic way to hide a dropper) still hashes. Results are cached by the file's identity, so a
// steady-state scan costs one stat per process and re-reads nothing. The key includes ctime because
// mtime can be set back with `touch -d` after a binary is swapped; ctime cannot be set by users.
//
// Small files are hashed inline, during the scan; larger ones in the background, one at a time, so
// a 200 MB binary never stalls a scan: its rows say 'pending' until a later scan finds the result.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode, isGone } from './proc-reader.ts';

export type HashStatus = 'ok' | 'pending' | 'too_large' | 'unreadable' | 'none';

export interface HashOutcome {
  readonly status: HashStatus;
  /** Lowercase hex SHA-256 when status is 'ok', else null. */
  readonly hash: string | null;
}

export interface ExecutableHasherOptions {
  /** Files up to this size are hashed during the scan (default 16 MiB). */
  readonly inlineMaxBytes?: number;
  /** Files above this size are not hashed at all: 'too_large' (default 256 MiB). 0 turns hashing off. */
  readonly maxBytes?: number;
  /** Cached results kept, least recently used evicted first (default 20,000). */
  readonly cacheEntries?: number;
  /** Background jobs waiting at most; more are retried by later scans (default 256). */
  readonly maxQueued?: number;
}

export const HASH_NONE: HashOutcome = Object.freeze({ status: 'none', hash: null });
const PENDING: HashOutcome = Object.freeze({ status: 'pending', hash: null });
const UNREADABLE: HashOutcome = Object.freeze({ status: 'unreadable', hash: null });
const TOO_LARGE: HashOutcome = Object.freeze({ status: 'too_large', hash: null });

const MiB = 1024 * 1024;

/** The identity a cached hash is valid for. */
export function fileKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class ExecutableHasher {
  readonly #inlineMax: number;
  readonly #max: number;
  readonly #cacheEntries: number;
  readonly #maxQueued: number;
  readonly #cache = new Map<string, HashOutcome>();
  readonly #queue: { path: string; key: string }[] = [];
  readonly #inFlight = new Set<string>();
  readonly #inlineBuf = Buffer.allocUnsafe(MiB);
  #draining: Promise<void> | null = null;
  #stopped = false;
  readonly #counts = {
    hash_cache_hits: 0, hash_cache_misses: 0, bytes_hashed: 0, hash_background_queued: 0,
    hash_queue_full: 0, hash_unreadable: 0,
  };

  constructor(options: ExecutableHasherOptions = {}) {
    this.#max = options.maxBytes ?? 256 * MiB;
    this.#inlineMax = Math.min(options.inlineMaxBytes ?? 16 * MiB, this.#max);
    this.#cacheEntries = Math.max(1, options.cacheEntries ?? 20_000);
    this.#maxQueued = Math.max(0, options.maxQueued ?? 256);
  }

  /**
   * The hash of the file at `path` (normally /proc/PID/exe). Pass `st` when the caller already has
   * statSync(path) so the file is not stat'ed twice.
   */
  hash(path: string, st?: Stats): HashOutcome {
    // Hashing turned off (collection.hash_executables: false): not hashed, nothing read or cached.
    if (this.#max <= 0) return HASH_NONE;
    if (st === undefined) {
      try {
        st = statSync(path);
      } catch (e) {
        return isGone(errnoCode(e)) ? HASH_NONE : UNREADABLE;
      }
    }
    const key = fileKey(st);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#counts.hash_cache_hits++;
      this.#cache.delete(key); // re-insert: Map order is the LRU order
      this.#cache.set(key, cached);
      return cached;
    }
    this.#counts.hash_cache_misses++;
    if (!st.isFile()) return this.#remember(key, UNREADABLE);
    if (st.size > this.#max) return this.#remember(key, TOO_LARGE);
    if (st.size > this.#inlineMax) {
      this.#enqueue(path, key);
      return PENDING;
    }
    return this.#hashInline(path, key);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#counts }; // monotonic only, per the Source contract (the cache size is not)
  }

  /** Resolves when no background hash is queued or running (tests, orderly shutdown). */
  async idle(): Promise<void> {
    while (this.#draining !== null) await this.#draining;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    await this.idle();
  }

  #remember(key: string, outcome: HashOutcome): HashOutcome {
    if (outcome.status === 'unreadable') this.#counts.hash_unreadable++;
    this.#cache.set(key, outcome);
    if (this.#cache.size > this.#cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
    return outcome;
  }

  #hashInline(path: string, key: string): HashOutcome {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      // Gone: the process exited; nothing to remember, another process may still use the file.
      return isGone(errnoCode(e)) ? HASH_NONE : this.#remember(key, UNREADABLE);
    }
    try {
      // Key from the open file itself: the path may now name another file than the one stat'ed.
      const realKey = fileKey(fstatSync(fd));
      const hash = createHash('sha256');
      let total = 0;
      for (;;) {
        const n = readSync(fd, this.#inlineBuf, 0, this.#inlineBuf.length, null);
        if (n === 0) break;
        hash.update(this.#inlineBuf.subarray(0, n));
        total += n;
        this.#counts.bytes_hashed += n;
        if (total > this.#max) return this.#remember(realKey, TOO_LARGE);
      }
      return this.#remember(realKey, { status: 'ok', hash: hash.digest('hex') });
    } catch {
      return this.#remember(key, UNREADABLE);
    } finally {
      closeSync(fd);
    }
  }

  #enqueue(path: string, key: string): void {
    if (this.#stopped || this.#inFlight.has(key)) return;
    if (this.#queue.length >= this.#maxQueued) {
      this.#counts.hash_queue_full++;
      return;
    }
    this.#inFlight.add(key);
    this.#queue.push({ path, key });
    this.#counts.hash_background_queued++;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  async #drain(): Promise<void> {
    // One file at a time: background hashing must not compete with the scan for disk and CPU.
    const buf = Buffer.allocUnsafe(MiB);
    while (this.#queue.length > 0 && !this.#stopped) {
      const job = this.#queue.shift()!;
      try {
        await this.#hashInBackground(job.path, job.key, buf);
      } finally {
        this.#inFlight.delete(job.key);
      }
    }
  }

  async #hashInBackground(path: string, key: string, buf: Buffer): Promise<void> {
    let file;
    try {
      file = await open(path, 'r');
    } catch (e) {
      if (!isGone(errnoCode(e))) this.#remember(key, UNREADABLE);
      return;
    }
    try {
      const realKey = fileKey(await file.stat());
      const hash = createHash('sha256');
      let total = 0;
      for (;;) {
        if (this.#stopped) return;
        const { bytesRead } = await file.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        total += bytesRead;
        this.#counts.bytes_hashed += bytesRead;
        if (total > this.#max) {
          this.#remember(realKey, TOO_LARGE);
          return;
        }
      }
      this.#remember(realKey, { status: 'ok', hash: hash.digest('hex') });
    } catch {
      this.#remember(key, UNREADABLE);
    } finally {
      await file.close().catch(() => undefined); // nothing useful to do if close fails
    }
  }
}
