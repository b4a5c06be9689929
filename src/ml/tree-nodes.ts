/**
 * Flat-array binary trees shared by the decision tree, the random forest and gradient boosting:
 * growing them, predicting with them, and their JSON form.
 *
 * Node i is a leaf when feature[i] === -1 (its prediction is value[i]); otherwise a row goes to
 * left[i] when x[feature[i]] <= threshold[i], else to right[i]. Children always have larger
 * indices than their parent, which makes prediction terminate on any validated tree.
 */
import type { Matrix } from './matrix';

/** One tree as parallel typed arrays, one entry per node. */
export interface TreeArrays {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
}

/** The JSON form of a tree: the same arrays as plain numbers. */
export interface TreeJson {
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
}

/** Growable node storage; `finish` returns exactly-sized arrays. */
export class TreeBuilder {
  private feature: Int32Array;
  private threshold: Float64Array;
  private left: Int32Array;
  private right: Int32Array;
  private value: Float64Array;
  private count = 0;

  constructor(capacity = 64) {
    const c = Math.max(1, capacity);
    this.feature = new Int32Array(c);
    this.threshold = new Float64Array(c);
    this.left = new Int32Array(c);
    this.right = new Int32Array(c);
    this.value = new Float64Array(c);
  }

  /** Adds a leaf with value 0 and returns its index. */
  addNode(): number {
    if (this.count === this.feature.length) this.grow();
    const id = this.count++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    return id;
  }

  setValue(id: number, value: number): void {
    this.value[id] = value;
  }

  setSplit(id: number, feature: number, threshold: number, left: number, right: number): void {
    this.feature[id] = feature;
    this.threshold[id] = threshold;
    this.left[id] = left;
    this.right[id] = right;
  }

  get size(): number {
    return this.count;
  }

  finish(): TreeArrays {
    const n = this.count;
    return {
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      value: this.value.slice(0, n),
    };
  }

  private grow(): void {
    const c = this.feature.length * 2;
    const f = new Int32Array(c);
    f.set(this.feature);
    this.feature = f;
    const t = new Float64Array(c);
    t.set(this.threshold);
    this.threshold = t;
    const l = new Int32Array(c);
    l.set(this.left);
    this.left = l;
    const r = new Int32Array(c);
    r.set(this.right);
    this.right = r;
    const v = new Float64Array(c);
    v.set(this.value);
    this.value = v;
  }
}

/** Adds scale * (the tree's prediction) to out[i] for every row i of X (X already checked). */
export function addTreePredictions(
  tree: TreeArrays,
  X: Matrix,
  out: Float64Array,
  scale: number,
): void {
  const { feature, threshold, left, right, value } = tree;
  const { data, rows, cols } = X;
  for (let i = 0, base = 0; i < rows; i++, base += cols) {
    let node = 0;
    let f = feature[0]!;
    while (f >= 0) {
      node = data[base + f]! <= threshold[node]! ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[i] = out[i]! + scale * value[node]!;
  }
}

/** Adds scale * (the tree's prediction for X row rowIndex[k]) to out[k] for every k. */
export function addTreePredictionsRows(
  tree: TreeArrays,
  X: Matrix,
  rowIndex: Int32Array,
  out: Float64Array,
  scale: number,
): void {
  const { feature, threshold, left, right, value } = tree;
  const { data, cols } = X;
  for (let k = 0; k < rowIndex.length; k++) {
    const base = rowIndex[k]! * cols;
    let node = 0;
    let f = feature[0]!;
    while (f >= 0) {
      node = data[base + f]! <= threshold[node]! ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[k] = out[k]! + scale * value[node]!;
  }
}

/** Plain-array copy of a tree for JSON. */
export function treeToJson(tree: TreeArrays): TreeJson {
  return {
    feature: Array.from(tree.feature),
    threshold: Array.from(tree.threshold),
    left: Array.from(tree.left),
    right: Array.from(tree.right),
    value: Array.from(tree.value),
  };
}

/**
 * Rebuilds and validates a tree from its JSON form.
 * @throws TypeError naming the field when the shape is wrong (missing arrays, unequal lengths,
 * out-of-range features or children, non-finite numbers).
 */
export function treeFromJson(json: unknown, nFeatures: number, who: string): TreeArrays {
  if (typeof json !== 'object' || json === null)
    throw new TypeError(`${who}: a tree must be an object`);
  const o = json as Record<string, unknown>;
  const feature = Int32Array.from(numberArray(o.feature, `${who}: tree.feature`));
  const n = feature.length;
  const threshold = Float64Array.from(numberArray(o.threshold, `${who}: tree.threshold`, n));
  const left = Int32Array.from(numberArray(o.left, `${who}: tree.left`, n));
  const right = Int32Array.from(numberArray(o.right, `${who}: tree.right`, n));
  const value = Float64Array.from(numberArray(o.value, `${who}: tree.value`, n));
  if (n === 0) throw new TypeError(`${who}: a tree needs at least one node`);
  for (let i = 0; i < n; i++) {
    const f = feature[i]!;
    if (f === -1) continue;
    const l = left[i]!;
    const r = right[i]!;
    if (f < 0 || f >= nFeatures)
      throw new TypeError(
        `${who}: node ${i} splits on feature ${f}, expected -1 or 0..${nFeatures - 1}`,
      );
    if (l <= i || l >= n || r <= i || r >= n)
      throw new TypeError(`${who}: node ${i} has children ${l}, ${r} out of range`);
  }
  return { feature, threshold, left, right, value };
}

/** Validates a JSON array of finite numbers (of a given length, if any). */
export function numberArray(v: unknown, what: string, length?: number): number[] {
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array of numbers`);
  if (length !== undefined && v.length !== length)
    throw new TypeError(`${what} has ${v.length} entries, expected ${length}`);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new TypeError(`${what}[${i}] is not a finite number`);
  }
  return v as number[];
}

/** Reads the common header of a tree-model JSON: kind check, version 1, nFeatures. */
export function readHeader(json: Record<string, unknown>, kind: string, who: string): number {
  if (json.kind !== kind)
    throw new TypeError(`${who}: expected kind '${kind}', got '${String(json.kind)}'`);
  if (json.version !== 1)
    throw new TypeError(`${who}: unsupported version ${String(json.version)}, expected 1`);
  const nf = json.nFeatures;
  if (typeof nf !== 'number' || !Number.isInteger(nf) || nf < 1)
    throw new TypeError(`${who}: nFeatures must be a positive integer`);
  return nf;
}

/** Scales importances to sum to 1 (all zeros stay zeros). */
export function normalize(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  if (s > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / s;
  return v;
}
