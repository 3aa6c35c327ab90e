// Isolation Forest (Liu, Ting and Zhou, ICDM 2008), written here because the npm packages neither
// subsample, nor seed, nor save. Each tree is grown on psi rows drawn without replacement, splits on a
// random feature at a uniform random threshold between that feature's min and max in the node, and
// stops at depth ceil(log2 psi). A row's score is 2^(-E[h(x)] / c(psi)), where h adds c(size) for the
// rows left unsplit in the leaf. The split rule and the depth limit are scikit-learn's, so the two
// agree (test/analytics-sklearn.test.ts compares them).
//
// Trees are flat typed arrays (one entry per node) so scoring is a tight loop and saving is a copy.
import { Prng } from './prng.ts';

const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search in a binary search tree of n rows. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** Rows as one flat row-major Float64Array: n rows of d features. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export function toMatrix(rows: readonly (readonly number[])[], cols?: number): Matrix {
  const d = cols ?? rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * d);
  rows.forEach((r, i) => data.set(r, i * d));
  return { data, rows: rows.length, cols: d };
}

export interface IsolationForestOptions {
  readonly trees: number;
  /** Rows per tree (psi); capped at the number of training rows. */
  readonly sampleSize: number;
  readonly seed: number;
}

export const IFOREST_DEFAULTS: IsolationForestOptions = { trees: 100, sampleSize: 256, seed: 1 };

interface Tree {
  /** Split feature, or -1 for a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** For a leaf: depth + c(rows in the leaf), precomputed. */
  readonly leafPath: Float64Array;
}

export interface SavedForest {
  readonly options: IsolationForestOptions;
  readonly cols: number;
  readonly psi: number;
  readonly trees: readonly { f: number[]; t: number[]; l: number[]; r: number[]; p: number[] }[];
}

export class IsolationForest {
  readonly options: IsolationForestOptions;
  #trees: Tree[] = [];
  #cols = 0;
  #psi = 0;

  constructor(options: Partial<IsolationForestOptions> = {}) {
    this.options = { ...IFOREST_DEFAULTS, ...options };
    if (!(this.options.trees >= 1) || !(this.options.sampleSize >= 2)) throw new RangeError('trees >= 1 and sampleSize >= 2');
  }

  get fitted(): boolean {
    return this.#trees.length > 0;
  }

  get cols(): number {
    return this.#cols;
  }

  fit(x: Matrix): this {
    if (x.rows < 2) throw new RangeError('an isolation forest needs at least 2 training rows');
    const rng = new Prng(this.options.seed);
    this.#cols = x.cols;
    this.#psi = Math.min(this.options.sampleSize, x.rows);
    const maxDepth = Math.ceil(Math.log2(Math.max(this.#psi, 2)));
    this.#trees = [];
    for (let t = 0; t < this.options.trees; t++) {
      this.#trees.push(growTree(x, rng.sample(x.rows, this.#psi), maxDepth, rng));
    }
    return this;
  }

  /** Mean path length of one row (in features-space units of tree depth). */
  meanPath(data: Float64Array, offset: number): number {
    let sum = 0;
    for (const tree of this.#trees) {
      let node = 0;
      let f = tree.feature[0]!;
      while (f >= 0) {
        node = data[offset + f]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
        f = tree.feature[node]!;
      }
      sum += tree.leafPath[node]!;
    }
    return sum / this.#trees.length;
  }

  /** Anomaly score in (0, 1]: about 0.5 for ordinary rows, towards 1 for rows isolated quickly. */
  scoreRow(row: ArrayLike<number>): number {
    const data = row instanceof Float64Array ? row : Float64Array.from(row as ArrayLike<number>);
    return Math.pow(2, -this.meanPath(data, 0) / averagePathLength(this.#psi));
  }

  score(x: Matrix): Float64Array {
    if (!this.fitted) throw new Error('isolation forest not fitted');
    if (x.cols !== this.#cols) throw new RangeError(`expected ${this.#cols} features, got ${x.cols}`);
    const out = new Float64Array(x.rows);
    const c = averagePathLength(this.#psi);
    for (let i = 0; i < x.rows; i++) out[i] = Math.pow(2, -this.meanPath(x.data, i * x.cols) / c);
    return out;
  }

  save(): SavedForest {
    return {
      options: this.options, cols: this.#cols, psi: this.#psi,
      trees: this.#trees.map((t) => ({ f: [...t.feature], t: [...t.threshold], l: [...t.left], r: [...t.right], p: [...t.leafPath] })),
    };
  }

  static load(saved: SavedForest): IsolationForest {
    const forest = new IsolationForest(saved.options);
    forest.#cols = saved.cols;
    forest.#psi = saved.psi;
    forest.#trees = saved.trees.map((t) => ({
      feature: Int32Array.from(t.f), threshold: Float64Array.from(t.t), left: Int32Array.from(t.l),
      right: Int32Array.from(t.r), leafPath: Float64Array.from(t.p),
    }));
    return forest;
  }
}

function growTree(x: Matrix, sample: Int32Array, maxDepth: number, rng: Prng): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const leafPath: number[] = [];
  const d = x.cols;
  const candidates = new Int32Array(d);
  // Iterative, depth-first: each stack entry is a node id, the row range it owns in `rows`, and its depth.
  const rows = Int32Array.from(sample);
  const stack: [number, number, number, number][] = [];
  const newNode = (): number => {
    feature.push(-1); threshold.push(0); left.push(-1); right.push(-1); leafPath.push(0);
    return feature.length - 1;
  };
  stack.push([newNode(), 0, rows.length, 0]);
  while (stack.length > 0) {
    const [node, from, to, depth] = stack.pop()!;
    const n = to - from;
    if (depth >= maxDepth || n <= 1) {
      leafPath[node] = depth + averagePathLength(n);
      continue;
    }
    // Draw features without replacement until one is not constant in this node (scikit-learn's
    // random splitter does the same); a node where every feature is constant is a leaf.
    for (let i = 0; i < d; i++) candidates[i] = i;
    let chosen = -1;
    let lo = 0;
    let hi = 0;
    for (let remaining = d; remaining > 0 && chosen < 0; remaining--) {
      const j = rng.int(remaining);
      const f = candidates[j]!;
      candidates[j] = candidates[remaining - 1]!;
      lo = Infinity;
      hi = -Infinity;
      for (let i = from; i < to; i++) {
        const v = x.data[rows[i]! * d + f]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi > lo) chosen = f;
    }
    if (chosen < 0) {
      leafPath[node] = depth + averagePathLength(n);
      continue;
    }
    let split = lo + rng.next() * (hi - lo);
    if (split >= hi) split = lo; // float rounding: keep at least one row on each side
    // Partition rows[from, to) in place: <= split to the left.
    let i = from;
    let j = to - 1;
    while (i <= j) {
      if (x.data[rows[i]! * d + chosen]! <= split) i++;
      else {
        const t = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = t;
        j--;
      }
    }
    feature[node] = chosen;
    threshold[node] = split;
    const l = newNode();
    const r = newNode();
    left[node] = l;
    right[node] = r;
    stack.push([r, i, to, depth + 1], [l, from, i, depth + 1]);
  }
  return {
    feature: Int32Array.from(feature), threshold: Float64Array.from(threshold), left: Int32Array.from(left),
    right: Int32Array.from(right), leafPath: Float64Array.from(leafPath),
  };
}
