import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arrayLeaves, CompactRange, consistencyProof, EMPTY_ROOT, hashChildren, hashLeaf, inclusionProof, merkleRoot, splitPoint,
  verifyConsistency, verifyInclusion,
} from './merkle.ts';
import {
  refConsistency, refLeafHash, refPath, refRoot, refVerifyConsistency, refVerifyInclusion,
} from './testing/rfc6962-reference.ts';

// The Certificate Transparency reference vectors (RFC 6962 test data used by certificate-transparency,
// trillian and transparency-dev/merkle): leaves, the root for each tree size, and some proofs.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
  .map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: { index: number; size: number; path: string[] }[] = [
  { index: 0, size: 1, path: [] },
  { index: 0, size: 8, path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, path: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, path: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];
const CT_CONSISTENCY: { m: number; n: number; proof: string[] }[] = [
  { m: 1, n: 1, proof: [] },
  { m: 1, n: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { m: 6, n: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { m: 2, n: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

const hex = (bs: readonly Uint8Array[]): string[] => bs.map((b) => Buffer.from(b).toString('hex'));
const leafHashes = CT_LEAVES.map((l) => hashLeaf(l));
const synthetic = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => hashLeaf(`entry ${i}`));

test('the CT reference roots for every tree size 0..8, through the compact range', () => {
  assert.equal(EMPTY_ROOT.toString('hex'), CT_ROOTS[0]);
  const range = new CompactRange();
  assert.equal(range.root().toString('hex'), CT_ROOTS[0]);
  for (let n = 1; n <= CT_LEAVES.length; n++) {
    range.append(leafHashes[n - 1]!);
    assert.equal(range.size, n);
    assert.equal(range.root().toString('hex'), CT_ROOTS[n], `size ${n}`);
    assert.equal(merkleRoot(leafHashes.slice(0, n)).toString('hex'), CT_ROOTS[n]);
    assert.equal(refRoot(CT_LEAVES.slice(0, n).map(refLeafHash)).toString('hex'), CT_ROOTS[n], 'the reference agrees too');
  }
  assert.equal(hashChildren(leafHashes[0]!, leafHashes[1]!).toString('hex'), CT_ROOTS[2]);
});

test('the CT reference inclusion and consistency proofs', () => {
  const leaves = arrayLeaves(leafHashes);
  const roots = CT_ROOTS.map((h) => Buffer.from(h, 'hex'));
  for (const v of CT_INCLUSION) {
    const path = inclusionProof(v.index, v.size, leaves);
    assert.deepEqual(hex(path), v.path, `inclusion ${v.index} in ${v.size}`);
    assert.ok(verifyInclusion(v.index, v.size, leafHashes[v.index]!, path, roots[v.size]!));
  }
  for (const v of CT_CONSISTENCY) {
    const proof = consistencyProof(v.m, v.n, leaves);
    assert.deepEqual(hex(proof), v.proof, `consistency ${v.m} → ${v.n}`);
    assert.ok(verifyConsistency(v.m, v.n, roots[v.m]!, roots[v.n]!, proof));
  }
});

test('the split point is the largest power of two below n, not the midpoint', () => {
  const cases: [number, number][] = [[2, 1], [3, 2], [4, 2], [5, 4], [6, 4], [8, 4], [9, 8], [1000, 512], [1_000_000, 524_288], [2 ** 40 + 1, 2 ** 40]];
  for (const [n, k] of cases) assert.equal(splitPoint(n), k, String(n));
  assert.throws(() => splitPoint(1));
});

test('compact range roots equal the naive recursive MTH for every size up to 300, and clones are independent', () => {
  const leaves = synthetic(300);
  const range = new CompactRange();
  for (let n = 1; n <= leaves.length; n++) {
    range.append(leaves[n - 1]!);
    assert.ok(range.root().equals(refRoot(leaves.slice(0, n))), `size ${n}`);
  }
  const copy = range.clone();
  copy.append(hashLeaf('more'));
  assert.equal(range.size, 300);
  assert.ok(range.root().equals(refRoot(leaves)));
  assert.ok(copy.root().equals(refRoot([...leaves, hashLeaf('more')])));
});

test('proofs equal RFC 6962 PATH and PROOF for every (m, n) up to 64, and the independent RFC 9162 verifier accepts them', () => {
  const all = synthetic(64);
  const leaves = arrayLeaves(all);
  for (let n = 1; n <= all.length; n++) {
    const tree = all.slice(0, n);
    const root = refRoot(tree);
    for (let m = 0; m < n; m++) {
      const path = inclusionProof(m, n, leaves);
      assert.deepEqual(hex(path), hex(refPath(m, tree)), `PATH(${m}, D[${n}])`);
      assert.ok(refVerifyInclusion(m, n, all[m]!, path, root), `independent inclusion ${m}/${n}`);
      assert.ok(verifyInclusion(m, n, all[m]!, path, root));
    }
    for (let m = 1; m <= n; m++) {
      const proof = consistencyProof(m, n, leaves);
      assert.deepEqual(hex(proof), hex(refConsistency(m, tree)), `PROOF(${m}, D[${n}])`);
      const oldRoot = refRoot(all.slice(0, m));
      assert.ok(refVerifyConsistency(m, n, oldRoot, root, proof), `independent consistency ${m} → ${n}`);
      assert.ok(verifyConsistency(m, n, oldRoot, root, proof));
    }
  }
});

test('both verifiers reject wrong indices, sizes, leaves, roots and altered or truncated proofs', () => {
  const all = synthetic(37);
  const leaves = arrayLeaves(all);
  const root = merkleRoot(all);
  const flip = (b: Uint8Array): Buffer => {
    const c = Buffer.from(b);
    c[5]! ^= 1;
    return c;
  };
  for (const m of [0, 1, 13, 31, 32, 36]) {
    const path = inclusionProof(m, 37, leaves);
    for (const verify of [verifyInclusion, refVerifyInclusion]) {
      assert.ok(verify(m, 37, all[m]!, path, root));
      assert.ok(!verify(m + 1, 37, all[m]!, path, root), `index ${m + 1}`);
      assert.ok(!verify(m, 37, all[(m + 1) % 37]!, path, root), 'leaf');
      assert.ok(!verify(m, 37, all[m]!, path, flip(root)), 'root');
      assert.ok(!verify(m, 37, all[m]!, path.slice(0, -1), root), 'truncated');
      assert.ok(!verify(m, 37, all[m]!, [...path, root], root), 'extended');
      for (let i = 0; i < path.length; i++) assert.ok(!verify(m, 37, all[m]!, path.map((p, j) => (j === i ? flip(p) : p)), root), `element ${i}`);
    }
    // A wrong tree size can still verify when the path has the same shape (37 and 38 both split 32 | rest):
    // the size is bound by the signed checkpoint, not by the path. The two verifiers must agree, though.
    for (const size of [33, 36, 38, 64, 65]) {
      assert.equal(verifyInclusion(m, size, all[m]!, path, root), refVerifyInclusion(m, size, all[m]!, path, root), `size ${size}`);
    }
  }
  for (const m of [1, 2, 5, 16, 20, 36]) {
    const proof = consistencyProof(m, 37, leaves);
    const oldRoot = merkleRoot(all.slice(0, m));
    for (const verify of [verifyConsistency, refVerifyConsistency]) {
      assert.ok(verify(m, 37, oldRoot, root, proof));
      assert.ok(!verify(m, 37, flip(oldRoot), root, proof), 'old root');
      assert.ok(!verify(m, 37, oldRoot, flip(root), proof), 'new root');
      assert.ok(!verify(m + 1, 37, oldRoot, root, proof), 'old size');
      for (let i = 0; i < proof.length; i++) assert.ok(!verify(m, 37, oldRoot, root, proof.map((p, j) => (j === i ? flip(p) : p))), `element ${i}`);
    }
    for (const size of [33, 36, 38, 64, 65]) {
      assert.equal(verifyConsistency(m, size, oldRoot, root, proof), refVerifyConsistency(m, size, oldRoot, root, proof), `size ${size}`);
    }
  }
});

test('a larger tree (2^15 + 5 leaves): proofs at the edges verify independently', () => {
  const n = 2 ** 15 + 5;
  const all = synthetic(n);
  const leaves = arrayLeaves(all);
  const root = merkleRoot(all);
  assert.ok(root.equals(refRoot(all)));
  for (const m of [0, 1, 2 ** 14, 2 ** 15 - 1, 2 ** 15, n - 1]) {
    assert.ok(refVerifyInclusion(m, n, all[m]!, inclusionProof(m, n, leaves), root), `inclusion ${m}`);
  }
  for (const m of [1, 3, 2 ** 14, 2 ** 15, 2 ** 15 + 1, n - 1, n]) {
    assert.ok(refVerifyConsistency(m, n, merkleRoot(all.slice(0, m)), root, consistencyProof(m, n, leaves)), `consistency ${m}`);
  }
});

test('bad arguments are range errors, not wrong proofs', () => {
  const leaves = arrayLeaves(synthetic(4));
  assert.throws(() => inclusionProof(4, 4, leaves), RangeError);
  assert.throws(() => inclusionProof(-1, 4, leaves), RangeError);
  assert.throws(() => consistencyProof(0, 4, leaves), RangeError);
  assert.throws(() => consistencyProof(5, 4, leaves), RangeError);
  assert.throws(() => inclusionProof(0, 5, leaves), /leaf source gave 0 leaves for \[4, 5\)/); // the source ran out
  assert.throws(() => new CompactRange().append(Buffer.alloc(31)), RangeError);
  assert.ok(!verifyInclusion(0, 0, hashLeaf(''), [], EMPTY_ROOT));
  assert.ok(!verifyConsistency(0, 4, EMPTY_ROOT, EMPTY_ROOT, []));
});
