// An independent RFC 6962 / RFC 9162 implementation for tests only. It deliberately shares no code
// with ../merkle.ts: hashing is node:crypto's streaming API, the tree hash is the RFC's recursive
// definition transcribed as is (slow, O(n log n)), and the verifiers follow the numbered steps of
// RFC 9162 §2.1.3.2 and §2.1.4.2 with BigInt arithmetic, so a shared misreading is unlikely.
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export const refLeafHash = (data: Uint8Array): Buffer => sha256(Uint8Array.of(0x00), data);

/** SHA-256(0x01 || left || right). */
export const refNodeHash = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Uint8Array.of(0x01), left, right);

/** k: the largest power of two smaller than n (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/**
 * MTH(D[n]) from RFC 6962 §2.1, over leaf *hashes* (so the recursion bottoms out on a given hash):
 * MTH({}) = SHA-256(), MTH({d}) = leaf hash, MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
 */
export function refRoot(leafHashes: readonly Uint8Array[]): Buffer {
  const n = leafHashes.length;
  if (n === 0) return sha256();
  if (n === 1) return Buffer.from(leafHashes[0]!);
  const k = largestPowerOfTwoBelow(n);
  return refNodeHash(refRoot(leafHashes.slice(0, k)), refRoot(leafHashes.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]), literally. */
export function refPath(m: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  const n = leafHashes.length;
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...refPath(m, leafHashes.slice(0, k)), refRoot(leafHashes.slice(k))];
  return [...refPath(m - k, leafHashes.slice(k)), refRoot(leafHashes.slice(0, k))];
}

/** RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), literally. */
export function refConsistency(m: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  const sub = (mm: number, d: readonly Uint8Array[], b: boolean): Buffer[] => {
    const n = d.length;
    if (mm === n) return b ? [] : [refRoot(d)];
    const k = largestPowerOfTwoBelow(n);
    if (mm <= k) return [...sub(mm, d.slice(0, k), b), refRoot(d.slice(k))];
    return [...sub(mm - k, d.slice(k), false), refRoot(d.slice(0, k))];
  };
  return sub(m, leafHashes, true);
}

const lsb = (x: bigint): boolean => (x & 1n) === 1n;

/** RFC 9162 §2.1.3.2, step by step. */
export function refVerifyInclusion(leafIndex: number, treeSize: number, leafHash: Uint8Array, inclusionPath: readonly Uint8Array[], rootHash: Uint8Array): boolean {
  // 1. Compare leaf_index against tree_size. If leaf_index is greater than or equal to tree_size, then fail.
  if (leafIndex >= treeSize || leafIndex < 0) return false;
  // 2. Set fn to leaf_index and sn to tree_size - 1.
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize) - 1n;
  // 3. Set r to hash.
  let r: Buffer = Buffer.from(leafHash);
  // 4. For each value p in the inclusion_path array:
  for (const p of inclusionPath) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0n) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (lsb(fn) || fn === sn) {
      // i. Set r to HASH(0x01 || p || r).
      r = refNodeHash(p, r);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      // Otherwise: Set r to HASH(0x01 || r || p).
      r = refNodeHash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the root_hash are equal, then the log has proven the inclusion of hash.
  return sn === 0n && r.equals(rootHash);
}

/** RFC 9162 §2.1.4.2, step by step (0 < first < second; equal sizes need an empty proof and equal roots). */
export function refVerifyConsistency(first: number, second: number, firstHash: Uint8Array, secondHash: Uint8Array, consistencyPath: readonly Uint8Array[]): boolean {
  if (first === second) return consistencyPath.length === 0 && Buffer.from(firstHash).equals(secondHash);
  if (first < 1 || first > second) return false;
  // 1. If consistency_path is an empty array, stop and fail the proof verification.
  if (consistencyPath.length === 0) return false;
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const path = (BigInt(first) & (BigInt(first) - 1n)) === 0n ? [firstHash, ...consistencyPath] : [...consistencyPath];
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = BigInt(first) - 1n;
  let sn = BigInt(second) - 1n;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while (lsb(fn)) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of path.slice(1)) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0n) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (lsb(fn) || fn === sn) {
      // i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
      fr = refNodeHash(c, fr);
      sr = refNodeHash(c, sr);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      // Otherwise: Set sr to HASH(0x01 || sr || c).
      sr = refNodeHash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7. After completing iterating through the consistency_path array as described above, verify that the fr calculated
  //    is equal to the first_hash supplied, that the sr calculated is equal to the second_hash supplied, and that sn is 0.
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0n;
}
