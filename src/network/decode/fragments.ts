// IP fragment reassembly, bounded: at most MAX_DATAGRAMS datagrams in progress and at most 65,535
// bytes each; a datagram not completed within TIMEOUT_SEC is dropped and counted. Fragments are
// rare on real networks, so this path allocates freely; the bounds are what matter (a flood of
// first fragments must not grow memory).
import type { DecodeErrors } from './decode-errors.ts';

const MAX_DATAGRAMS = 256;
const MAX_BYTES = 65_535;
const TIMEOUT_SEC = 30;

interface Pending {
  readonly key: string;
  readonly firstSeenSec: number;
  /** [offset, bytes] pieces of the payload (after the IP header). */
  readonly pieces: { offset: number; bytes: Buffer }[];
  /** Set when the last fragment (more-fragments = 0) arrived. */
  total: number;
  received: number;
}

export interface Reassembled {
  readonly payload: Buffer;
}

export class FragmentReassembler {
  readonly #pending = new Map<string, Pending>();
  readonly #errors: DecodeErrors;
  /** Datagrams completed, for counters. */
  completed = 0;

  constructor(errors: DecodeErrors) {
    this.#errors = errors;
  }

  get inProgress(): number {
    return this.#pending.size;
  }

  /**
   * Adds one fragment (its payload bytes, offset in bytes, more-fragments flag). Returns the whole
   * payload once every byte from 0 to the end is present, else null.
   */
  add(key: string, nowSec: number, offset: number, more: boolean, data: Buffer, at: number, length: number): Buffer | null {
    this.#expire(nowSec);
    if (offset + length > MAX_BYTES) {
      this.#errors.fragment_too_large++;
      this.#pending.delete(key);
      return null;
    }
    let p = this.#pending.get(key);
    if (p === undefined) {
      if (this.#pending.size >= MAX_DATAGRAMS) {
        this.#errors.fragment_table_full++;
        return null;
      }
      p = { key, firstSeenSec: nowSec, pieces: [], total: -1, received: 0 };
      this.#pending.set(key, p);
    }
    for (const piece of p.pieces) {
      if (offset < piece.offset + piece.bytes.length && piece.offset < offset + length) {
        // Overlapping fragments are an evasion technique (teardrop, Ptacek-Newsham): refuse the datagram.
        this.#errors.fragment_overlap++;
        this.#pending.delete(key);
        return null;
      }
    }
    p.pieces.push({ offset, bytes: Buffer.from(data.subarray(at, at + length)) });
    p.received += length;
    if (!more) p.total = offset + length;
    if (p.total < 0 || p.received !== p.total) return null;
    this.#pending.delete(key);
    const out = Buffer.alloc(p.total);
    for (const piece of p.pieces) piece.bytes.copy(out, piece.offset);
    this.completed++;
    return out;
  }

  #expire(nowSec: number): void {
    // Map iteration is insertion order: the oldest datagrams come first.
    for (const p of this.#pending.values()) {
      if (nowSec - p.firstSeenSec <= TIMEOUT_SEC) break;
      this.#pending.delete(p.key);
      this.#errors.fragment_timeout++;
    }
  }
}
