// The RFC 6962 (Certificate Transparency) Merkle tree over SHA-256, so that anyone with the RFC can
// check our roots and proofs: leaf = H(0x00 || data), node = H(0x01 || left || right), and a tree of
// n > 1 leaves splits at the largest power of two below n. Nothing here knows about SQLite: leaves
// come from a LeafSource, so the same code serves the ledger, the CLI and the tests.
//
// Tree sizes and indices are JavaScript numbers (exact up to 2^53): shifts are written as division
// because the bitwise operators would truncate to 32 bits.
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

/** RFC 6962 leaf hash: SHA-256(0x00 || data). A string is hashed as its UTF-8 bytes. */
export function hashLeaf(data: string | Uint8Array): Buffer {
  if (typeof data === 'string') return hash('sha256', '\u0000' + data, 'buffer');
  const b = Buffer.allocUnsafe(data.length + 1);
  b[0] = 0;
  b.set(data, 1);
  return hash('sha256', b, 'buffer');
}

// One scratch buffer for interior nodes: hashing is synchronous, so it is never shared mid-use.
const node = Buffer.alloc(1 + 2 * HASH_SIZE);
node[0] = 1;

/** RFC 6962 interior node: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  node.set(left, 1);
  node.set(right, 1 + HASH_SIZE);
  return hash('sha256', node, 'buffer');
}

/** The k with k < n <= 2k: where RFC 6962 splits a tree of n > 1 leaves. */
export function splitPoint(n: number): number {
  if (!(n > 1)) throw new RangeError(`a tree of ${n} leaves has no split`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The right edge of a tree of `size` leaves: the roots of its perfect subtrees, largest first (one per
 * set bit of size). Appending costs amortised O(1) and at most log2(n) hashes; root() folds the edge
 * right to left in O(log n), which is exactly MTH because the RFC split peels off those subtrees.
 */
export class CompactRange {
  #hashes: Buffer[];
  #sizes: number[];
  #size: number;

  constructor(hashes: Buffer[] = [], sizes: number[] = [], size = 0) {
    this.#hashes = hashes;
    this.#sizes = sizes;
    this.#size = size;
  }

  static of(leafHashes: Iterable<Uint8Array>): CompactRange {
    const r = new CompactRange();
    for (const h of leafHashes) r.append(h);
    return r;
  }

  get size(): number {
    return this.#size;
  }

  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) throw new RangeError(`a leaf hash has ${HASH_SIZE} bytes, not ${leafHash.length}`);
    let h: Buffer = Buffer.from(leafHash);
    let width = 1;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === width) {
      this.#sizes.pop();
      h = hashChildren(this.#hashes.pop()!, h);
      width *= 2;
    }
    this.#hashes.push(h);
    this.#sizes.push(width);
    this.#size++;
  }

  root(): Buffer {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let r = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) r = hashChildren(this.#hashes[i]!, r);
    return r;
  }

  clone(): CompactRange {
    return new CompactRange([...this.#hashes], [...this.#sizes], this.#size);
  }
}

/** MTH over leaf hashes (not leaf data). */
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Buffer {
  return CompactRange.of(leafHashes).root();
}

/** Streams the leaf hashes with index in [start, end), in order. */
export type LeafSource = (start: number, end: number) => Iterable<Uint8Array>;

/** A leaf source over an in-memory array of leaf hashes. */
export function arrayLeaves(leafHashes: readonly Uint8Array[]): LeafSource {
  return (start, end) => leafHashes.slice(start, end);
}

export type Range = readonly [start: number, end: number];

function checkSize(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, not ${v}`);
}

/**
 * The subtrees whose hashes make the audit path of leaf `index` in a tree of `size` leaves
 * (RFC 6962 §2.1.1 PATH), nearest the leaf first.
 */
export function inclusionRanges(index: number, size: number): Range[] {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const out: Range[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
    }
  }
  return out.reverse();
}

/**
 * The subtrees whose hashes make the consistency proof from size m to size n (RFC 6962 §2.1.2
 * SUBPROOF), in the RFC's order. Empty when m = n; defined for 0 < m <= n.
 */
export function consistencyRanges(m: number, n: number): Range[] {
  checkSize('old size', m);
  checkSize('new size', n);
  if (m === 0 || m > n) throw new RangeError(`no consistency proof from size ${m} to size ${n} (need 0 < old <= new)`);
  const out: Range[] = [];
  let lo = 0;
  let hi = n;
  let mm = m;
  let complete = true; // RFC's "b": the old tree is still a complete left part of this subtree
  while (hi - lo !== mm) {
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
      mm -= k;
      complete = false;
    }
  }
  if (!complete) out.push([lo, hi]);
  return out.reverse();
}

/** MTH(D[start:end]): streams the range once, holding only O(log n) hashes. */
export function subtreeHash(leaves: LeafSource, start: number, end: number): Buffer {
  const r = new CompactRange();
  for (const h of leaves(start, end)) r.append(h);
  if (r.size !== end - start) throw new RangeError(`leaf source gave ${r.size} leaves for [${start}, ${end})`);
  return r.root();
}

/** The audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(index: number, size: number, leaves: LeafSource): Buffer[] {
  return inclusionRanges(index, size).map(([a, b]) => subtreeHash(leaves, a, b));
}

/** The consistency proof between the trees of the first m and the first n leaves. */
export function consistencyProof(m: number, n: number, leaves: LeafSource): Buffer[] {
  return consistencyRanges(m, n).map(([a, b]) => subtreeHash(leaves, a, b));
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/** RFC 9162 §2.1.3.2: does `proof` show that `leafHash` is leaf `index` of the tree with `root`? */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

const isPowerOfTwo = (x: number): boolean => x > 0 && 2 ** Math.round(Math.log2(x)) === x;

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of size m with `oldRoot` is a prefix of the tree
 * of size n with `newRoot`? For m = n the proof is empty and the roots must be equal.
 */
export function verifyConsistency(m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && Buffer.from(fr).equals(oldRoot) && Buffer.from(sr).equals(newRoot);
}
