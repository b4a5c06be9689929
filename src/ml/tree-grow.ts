/**
 * Depth-first growth of a least-squares regression tree on binned features, as used by the
 * decision tree and the random forest (fully grown trees with many small nodes).
 *
 * Every feature keeps its rows sorted by bin code in one list; a node is the same segment
 * [start, end) of every list. Finding the best split scans each list once (every boundary between
 * two codes is a candidate threshold), and splitting partitions each list stably, so no node ever
 * sorts. Entries pack (code << 24 | row), hence the 2^24 row limit.
 *
 * Sample weights are integer-like counts (bootstrap); rows with weight 0 are left out of the
 * lists, and minSamplesLeaf / minSamplesSplit count distinct rows, as in scikit-learn.
 */
import type { BinnedFeatures } from './binning';
import { midpoint } from './binning';
import { TreeBuilder } from './tree-nodes';
import type { TreeArrays } from './tree-nodes';
import type { Rng } from './tree-random';
import { randomInt } from './tree-random';

/** The largest number of rows the packed lists can hold. */
export const MAX_ROWS = 1 << 24;
const ROW_MASK = MAX_ROWS - 1;

export interface GrowParams {
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly minSamplesSplit: number;
  /** Number of features examined per node (all of them: no sampling, no randomness). */
  readonly maxFeatures: number;
}

/** Reusable buffers for growing many trees on the same binned data. */
export class GrowWorkspace {
  /** Per feature, all rows sorted by (code, row): order[f * rows + k]. */
  readonly order: Uint32Array;
  readonly lists: Uint32Array;
  readonly tmp: Uint32Array;
  readonly stamp: Int32Array;
  readonly wy: Float64Array;
  readonly features: Int32Array;
  stampCounter = 0;

  constructor(readonly binned: BinnedFeatures) {
    const { rows, cols, codes } = binned;
    if (binned.layout !== 'columns') throw new TypeError('GrowWorkspace needs column-major codes');
    if (rows >= MAX_ROWS)
      throw new RangeError(`tree models support at most ${MAX_ROWS - 1} rows, got ${rows}`);
    this.order = new Uint32Array(rows * cols);
    const counts = new Int32Array(257);
    for (let f = 0; f < cols; f++) {
      counts.fill(0);
      const off = f * rows;
      for (let i = 0; i < rows; i++) {
        const c = codes[off + i]! + 1;
        counts[c] = counts[c]! + 1;
      }
      for (let b = 1; b < 257; b++) counts[b] = counts[b]! + counts[b - 1]!;
      for (let i = 0; i < rows; i++) {
        const c = codes[off + i]!;
        const pos = counts[c]!;
        counts[c] = pos + 1;
        this.order[off + pos] = ((c << 24) | i) >>> 0;
      }
    }
    this.lists = new Uint32Array(rows * cols);
    this.tmp = new Uint32Array(rows);
    this.stamp = new Int32Array(rows);
    this.wy = new Float64Array(rows);
    this.features = new Int32Array(cols);
  }
}

/**
 * Grows one tree. `weights` (null = all ones) are per-row counts; `importances` accumulates the
 * weighted squared-error decrease of each split per feature.
 */
export function growTree(
  ws: GrowWorkspace,
  y: Float64Array,
  weights: Float64Array | null,
  params: GrowParams,
  rng: Rng,
  importances: Float64Array,
): TreeArrays {
  const { rows, cols, binMin, binMax } = ws.binned;
  const { order, lists, tmp, stamp, wy, features } = ws;
  const { maxDepth, minSamplesLeaf: msl, minSamplesSplit } = params;
  const sampleFeatures = params.maxFeatures < cols;
  const w = weights ?? new Float64Array(rows).fill(1);

  // Lists of the in-bag rows, in the global sorted order.
  let m = 0;
  if (weights) {
    for (let f = 0; f < cols; f++) {
      const src = f * rows;
      let k = 0;
      for (let i = 0; i < rows; i++) {
        const e = order[src + i]!;
        if (w[e & ROW_MASK]! > 0) tmp[k++] = e;
      }
      m = k;
      lists.set(tmp.subarray(0, m), f * m);
    }
  } else {
    m = rows;
    lists.set(order);
  }
  for (let i = 0; i < rows; i++) wy[i] = w[i]! * y[i]!;
  if (ws.stampCounter > 1 << 30) {
    stamp.fill(0);
    ws.stampCounter = 0;
  }

  const builder = new TreeBuilder(Math.min(2 * m, 1 << 16));
  const stack: number[] = [];
  stack.push(0, m, 0, builder.addNode());
  while (stack.length > 0) {
    const node = stack.pop()!;
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const n = end - start;

    let sumW = 0;
    let sumWY = 0;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (let i = start; i < end; i++) {
      const r = lists[i]! & ROW_MASK;
      sumW += w[r]!;
      sumWY += wy[r]!;
      const v = y[r]!;
      if (v < yMin) yMin = v;
      if (v > yMax) yMax = v;
    }
    builder.setValue(node, sumWY / sumW);
    if (depth >= maxDepth || n < minSamplesSplit || n < 2 * msl || yMin === yMax) continue;

    let bestProxy = -Infinity;
    let bestFeature = -1;
    let bestCode = 0;
    let bestPos = 0;
    let bestNext = 0;
    let bestSL = 0;
    let bestWL = 0;
    let visited = 0;
    for (let k = 0; k < cols; k++) {
      let f = k;
      if (sampleFeatures) {
        if (k === 0) for (let j = 0; j < cols; j++) features[j] = j;
        const j = k + randomInt(rng, cols - k);
        f = features[j]!;
        features[j] = features[k]!;
        features[k] = f;
      }
      const base = f * m;
      const first = lists[base + start]! >>> 24;
      if (first === lists[base + end - 1]! >>> 24) continue;
      visited++;
      let wL = 0;
      let sL = 0;
      const last = base + end - msl;
      const firstValid = base + start + msl - 1;
      for (let i = base + start; i < last; i++) {
        const e = lists[i]!;
        const r = e & ROW_MASK;
        wL += w[r]!;
        sL += wy[r]!;
        if (i < firstValid) continue;
        const code = e >>> 24;
        const next = lists[i + 1]! >>> 24;
        if (code === next) continue;
        const sR = sumWY - sL;
        const proxy = (sL * sL) / wL + (sR * sR) / (sumW - wL);
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestFeature = f;
          bestCode = code;
          bestPos = i + 1 - base;
          bestNext = next;
          bestSL = sL;
          bestWL = wL;
        }
      }
      if (sampleFeatures && visited >= params.maxFeatures && bestFeature >= 0) break;
    }
    if (bestFeature < 0) continue;

    importances[bestFeature] = importances[bestFeature]! + bestProxy - (sumWY * sumWY) / sumW;
    const nLeft = bestPos - start;
    const nRight = n - nLeft;
    // A child that cannot be split is a leaf whose mean is known from the scan; when both are,
    // the lists need no partition (in a fully grown tree that is every node of 2 rows).
    const leftIsLeaf = depth + 1 >= maxDepth || nLeft < minSamplesSplit || nLeft < 2 * msl;
    const rightIsLeaf = depth + 1 >= maxDepth || nRight < minSamplesSplit || nRight < 2 * msl;
    if (!leftIsLeaf || !rightIsLeaf) partitionLists(ws, m, cols, start, end, bestPos, bestFeature);
    const leftId = builder.addNode();
    const rightId = builder.addNode();
    // Midway between the largest value going left and the smallest going right, as scikit-learn.
    const threshold = midpoint(
      binMax[bestFeature * 256 + bestCode]!,
      binMin[bestFeature * 256 + bestNext]!,
    );
    builder.setSplit(node, bestFeature, threshold, leftId, rightId);
    if (rightIsLeaf) builder.setValue(rightId, (sumWY - bestSL) / (sumW - bestWL));
    else stack.push(start + nLeft, end, depth + 1, rightId);
    if (leftIsLeaf) builder.setValue(leftId, bestSL / bestWL);
    else stack.push(start, start + nLeft, depth + 1, leftId);
  }
  return builder.finish();
}

/** Stable partition of every feature's segment [start, end): rows of the split feature's [start, pos) first. */
function partitionLists(
  ws: GrowWorkspace,
  m: number,
  cols: number,
  start: number,
  end: number,
  bestPos: number,
  bestFeature: number,
): void {
  const { lists, tmp, stamp } = ws;
  const mark = ++ws.stampCounter;
  const sb = bestFeature * m;
  for (let i = sb + start; i < sb + bestPos; i++) stamp[lists[i]! & ROW_MASK] = mark;
  for (let f = 0; f < cols; f++) {
    if (f === bestFeature) continue;
    const base = f * m;
    let wi = base + start;
    let ti = 0;
    // Branch-free stable partition: each entry is written to both sides, one cursor moves.
    for (let i = base + start; i < base + end; i++) {
      const e = lists[i]!;
      const x = stamp[e & ROW_MASK]! ^ mark;
      const isLeft = 1 - ((x | -x) >>> 31);
      lists[wi] = e;
      tmp[ti] = e;
      wi += isLeft;
      ti += 1 - isLeft;
    }
    // A subarray is an allocation: worth it only for long runs (most nodes are small).
    if (ti > 256) lists.set(tmp.subarray(0, ti), wi);
    else for (let t = 0; t < ti; t++) lists[wi + t] = tmp[t]!;
  }
}
