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
 *
 * Above LOCAL_ROWS rows the lists no longer fit in cache and every scan is a stream of cache
 * misses, so nodes larger than that are split from per-node histograms (one pass over the node's
 * rows, all features, on a row-major copy of the codes) over a single row list kept in row order.
 * A node of at most LOCAL_ROWS rows gets its own sorted lists with its rows renumbered 0..n-1
 * (same order, so the same splits as the global lists) and its subtree is grown as above, in
 * cache. Histogram sums add in another order than list scans, so on data larger than
 * LOCAL_ROWS the top splits may differ from the all-lists growth in the last bits.
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
/** Nodes of at most this many rows are grown on their own sorted lists (see above). */
export const LOCAL_ROWS = 1 << 17;

export interface GrowParams {
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly minSamplesSplit: number;
  /** Number of features examined per node (all of them: no sampling, no randomness). */
  readonly maxFeatures: number;
}

/** Reusable buffers for growing many trees on the same binned data. */
export class GrowWorkspace {
  /** Per feature, all rows sorted by (code, row): order[f * rows + k] (empty when `large`). */
  readonly order: Uint32Array;
  /** The sorted lists of the tree (or, when `large`, of the current subtree of <= LOCAL_ROWS rows). */
  readonly lists: Uint32Array;
  readonly tmp: Uint32Array;
  readonly stamp: Int32Array;
  readonly wy: Float64Array;
  readonly features: Int32Array;
  /** More than LOCAL_ROWS rows: large nodes are split from histograms. */
  readonly large: boolean;
  /** Row-major codes (rowCodes[i * cols + f]), only when `large`. */
  readonly rowCodes: Uint8Array;
  /** The rows of the large nodes, each node a segment in increasing row order. */
  readonly rowList: Uint32Array;
  readonly histW: Float64Array;
  readonly histWY: Float64Array;
  readonly histN: Int32Array;
  /** Per-row weight, weighted target and target of the current subtree, renumbered. */
  readonly localW: Float64Array;
  readonly localWY: Float64Array;
  readonly localY: Float64Array;
  stampCounter = 0;

  constructor(readonly binned: BinnedFeatures) {
    const { rows, cols, codes } = binned;
    if (binned.layout !== 'columns') throw new TypeError('GrowWorkspace needs column-major codes');
    if (rows >= MAX_ROWS)
      throw new RangeError(`tree models support at most ${MAX_ROWS - 1} rows, got ${rows}`);
    this.large = rows > LOCAL_ROWS;
    this.tmp = new Uint32Array(rows);
    this.stamp = new Int32Array(rows);
    this.wy = new Float64Array(rows);
    this.features = new Int32Array(cols);
    if (this.large) {
      this.order = new Uint32Array(0);
      this.lists = new Uint32Array(LOCAL_ROWS * cols);
      this.rowCodes = new Uint8Array(rows * cols);
      for (let f = 0; f < cols; f++) {
        const off = f * rows;
        for (let i = 0; i < rows; i++) this.rowCodes[i * cols + f] = codes[off + i]!;
      }
      this.rowList = new Uint32Array(rows);
      this.histW = new Float64Array(cols * 256);
      this.histWY = new Float64Array(cols * 256);
      this.histN = new Int32Array(cols * 256);
      this.localW = new Float64Array(LOCAL_ROWS);
      this.localWY = new Float64Array(LOCAL_ROWS);
      this.localY = new Float64Array(LOCAL_ROWS);
      return;
    }
    this.rowCodes = new Uint8Array(0);
    this.rowList = new Uint32Array(0);
    this.histW = this.histWY = this.localW = this.localWY = this.localY = new Float64Array(0);
    this.histN = new Int32Array(0);
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
  const { rows, cols } = ws.binned;
  const { order, lists, tmp, wy } = ws;
  const w = weights ?? new Float64Array(rows).fill(1);
  for (let i = 0; i < rows; i++) wy[i] = w[i]! * y[i]!;
  if (ws.stampCounter > 1 << 30) {
    ws.stamp.fill(0);
    ws.stampCounter = 0;
  }

  if (ws.large) {
    const rowList = ws.rowList;
    let m = 0;
    for (let i = 0; i < rows; i++) if (w[i]! > 0) rowList[m++] = i;
    const builder = new TreeBuilder(Math.min(2 * m, 1 << 16));
    growLarge(ws, m, y, w, params, rng, importances, builder);
    return builder.finish();
  }

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
  const builder = new TreeBuilder(Math.min(2 * m, 1 << 16));
  growSorted(ws, m, y, w, wy, params, rng, importances, builder, builder.addNode(), 0);
  return builder.finish();
}

/** Grows the subtree of `root` (at `depth`) whose rows are the m entries of each list of ws.lists. */
function growSorted(
  ws: GrowWorkspace,
  m: number,
  y: Float64Array,
  w: Float64Array,
  wy: Float64Array,
  params: GrowParams,
  rng: Rng,
  importances: Float64Array,
  builder: TreeBuilder,
  root: number,
  rootDepth: number,
): void {
  const { cols } = ws.binned;
  const { lists, features } = ws;
  const { maxDepth, minSamplesLeaf: msl, minSamplesSplit } = params;
  const sampleFeatures = params.maxFeatures < cols;
  const stack: number[] = [];
  stack.push(0, m, rootDepth, root);
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

    const feature = bestFeature;
    commitSplit(
      { binned: ws.binned, params, importances, builder, stack },
      { node, depth, start, end, sumW, sumWY },
      {
        feature,
        code: bestCode,
        next: bestNext,
        nLeft: bestPos - start,
        sumLeftWY: bestSL,
        sumLeftW: bestWL,
        proxy: bestProxy,
      },
      () => partitionLists(ws, m, cols, start, end, bestPos, feature),
    );
  }
}

/** A split chosen for a node: left gets the bins <= code (`next` is the first bin going right). */
interface ChosenSplit {
  feature: number;
  code: number;
  next: number;
  nLeft: number;
  sumLeftWY: number;
  sumLeftW: number;
  /** the split's proxy gain, sumL^2/wL + sumR^2/wR */
  proxy: number;
}

/**
 * Records a chosen split of the node over [start, end): its importance, the two children cut
 * midway between the largest value going left and the smallest going right (as scikit-learn),
 * and each child either as a leaf (its mean is known from the scan) or on the stack to grow.
 * `partition` reorders the node's rows; it is skipped when both children are leaves (in a fully
 * grown tree that is every node of 2 rows).
 */
function commitSplit(
  tree: {
    binned: BinnedFeatures;
    params: GrowParams;
    importances: Float64Array;
    builder: TreeBuilder;
    stack: number[];
  },
  at: { node: number; depth: number; start: number; end: number; sumW: number; sumWY: number },
  s: ChosenSplit,
  partition: () => void,
): void {
  const { binned, params, importances, builder, stack } = tree;
  const { node, depth, start, end, sumW, sumWY } = at;
  const { maxDepth, minSamplesLeaf: msl, minSamplesSplit } = params;
  importances[s.feature] = importances[s.feature]! + s.proxy - (sumWY * sumWY) / sumW;
  const nRight = end - start - s.nLeft;
  const leftIsLeaf = depth + 1 >= maxDepth || s.nLeft < minSamplesSplit || s.nLeft < 2 * msl;
  const rightIsLeaf = depth + 1 >= maxDepth || nRight < minSamplesSplit || nRight < 2 * msl;
  if (!leftIsLeaf || !rightIsLeaf) partition();
  const leftId = builder.addNode();
  const rightId = builder.addNode();
  const threshold = midpoint(
    binned.binMax[s.feature * 256 + s.code]!,
    binned.binMin[s.feature * 256 + s.next]!,
  );
  builder.setSplit(node, s.feature, threshold, leftId, rightId);
  if (rightIsLeaf) builder.setValue(rightId, (sumWY - s.sumLeftWY) / (sumW - s.sumLeftW));
  else stack.push(start + s.nLeft, end, depth + 1, rightId);
  if (leftIsLeaf) builder.setValue(leftId, s.sumLeftWY / s.sumLeftW);
  else stack.push(start, start + s.nLeft, depth + 1, leftId);
}

/**
 * Grows a tree on more than LOCAL_ROWS rows: the first m entries of ws.rowList (in increasing
 * order) are the in-bag rows. Nodes are visited in the same depth-first order as growSorted, so
 * node ids and the random feature draws follow the same sequence.
 */
function growLarge(
  ws: GrowWorkspace,
  m: number,
  y: Float64Array,
  w: Float64Array,
  params: GrowParams,
  rng: Rng,
  importances: Float64Array,
  builder: TreeBuilder,
): void {
  const { rows, cols, codes } = ws.binned;
  const { rowList, rowCodes, histW, histWY, histN, features, tmp, wy } = ws;
  const { maxDepth, minSamplesLeaf: msl, minSamplesSplit } = params;
  const sampleFeatures = params.maxFeatures < cols;
  const stack: number[] = [];
  stack.push(0, m, 0, builder.addNode());
  while (stack.length > 0) {
    const node = stack.pop()!;
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const n = end - start;
    if (n <= LOCAL_ROWS) {
      growLocal(ws, start, end, y, w, params, rng, importances, builder, node, depth);
      continue;
    }

    histW.fill(0);
    histWY.fill(0);
    histN.fill(0);
    let sumW = 0;
    let sumWY = 0;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (let i = start; i < end; i++) {
      const r = rowList[i]!;
      const wr = w[r]!;
      const wyr = wy[r]!;
      sumW += wr;
      sumWY += wyr;
      const v = y[r]!;
      if (v < yMin) yMin = v;
      if (v > yMax) yMax = v;
      const rb = r * cols;
      for (let f = 0, hb = 0; f < cols; f++, hb += 256) {
        const b = hb + rowCodes[rb + f]!;
        histW[b] = histW[b]! + wr;
        histWY[b] = histWY[b]! + wyr;
        histN[b] = histN[b]! + 1;
      }
    }
    builder.setValue(node, sumWY / sumW);
    if (depth >= maxDepth || n < minSamplesSplit || n < 2 * msl || yMin === yMax) continue;

    let bestProxy = -Infinity;
    let bestFeature = -1;
    let bestCode = 0;
    let bestNL = 0;
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
      const hb = f * 256;
      let prev = -1;
      let wL = 0;
      let sL = 0;
      let nL = 0;
      let counted = false;
      for (let b = 0; b < 256; b++) {
        const cnt = histN[hb + b]!;
        if (cnt === 0) continue;
        if (prev >= 0) {
          if (!counted) {
            visited++;
            counted = true;
          }
          // Boundary between codes prev and b, with nL rows left.
          if (nL >= msl && n - nL >= msl) {
            const sR = sumWY - sL;
            const proxy = (sL * sL) / wL + (sR * sR) / (sumW - wL);
            if (proxy > bestProxy) {
              bestProxy = proxy;
              bestFeature = f;
              bestCode = prev;
              bestNL = nL;
              bestNext = b;
              bestSL = sL;
              bestWL = wL;
            }
          }
        }
        wL += histW[hb + b]!;
        sL += histWY[hb + b]!;
        nL += cnt;
        prev = b;
      }
      if (sampleFeatures && visited >= params.maxFeatures && bestFeature >= 0) break;
    }
    if (bestFeature < 0) continue;

    const off = bestFeature * rows;
    const code = bestCode;
    commitSplit(
      { binned: ws.binned, params, importances, builder, stack },
      { node, depth, start, end, sumW, sumWY },
      {
        feature: bestFeature,
        code,
        next: bestNext,
        nLeft: bestNL,
        sumLeftWY: bestSL,
        sumLeftW: bestWL,
        proxy: bestProxy,
      },
      () => {
        // stable partition of the node's rows by the split
        let wi = start;
        let ti = 0;
        for (let i = start; i < end; i++) {
          const r = rowList[i]!;
          if (codes[off + r]! <= code) rowList[wi++] = r;
          else tmp[ti++] = r;
        }
        rowList.set(tmp.subarray(0, ti), wi);
      },
    );
  }
}

/**
 * Grows the subtree of a node of at most LOCAL_ROWS rows (rowList[start, end), increasing): its
 * rows are renumbered 0..n-1 in the same order and given their own sorted lists, so the subtree
 * grows exactly as it would on the global lists, within cache.
 */
function growLocal(
  ws: GrowWorkspace,
  start: number,
  end: number,
  y: Float64Array,
  w: Float64Array,
  params: GrowParams,
  rng: Rng,
  importances: Float64Array,
  builder: TreeBuilder,
  node: number,
  depth: number,
): void {
  const { rows, cols, codes } = ws.binned;
  const { rowList, lists, localW, localWY, localY, wy } = ws;
  const n = end - start;
  for (let j = 0; j < n; j++) {
    const r = rowList[start + j]!;
    localW[j] = w[r]!;
    localWY[j] = wy[r]!;
    localY[j] = y[r]!;
  }
  const counts = new Int32Array(257);
  for (let f = 0; f < cols; f++) {
    counts.fill(0);
    const off = f * rows;
    for (let j = 0; j < n; j++) {
      const c = codes[off + rowList[start + j]!]! + 1;
      counts[c] = counts[c]! + 1;
    }
    for (let b = 1; b < 257; b++) counts[b] = counts[b]! + counts[b - 1]!;
    const base = f * n;
    for (let j = 0; j < n; j++) {
      const c = codes[off + rowList[start + j]!]!;
      const pos = counts[c]!;
      counts[c] = pos + 1;
      lists[base + pos] = ((c << 24) | j) >>> 0;
    }
  }
  growSorted(ws, n, localY, localW, localWY, params, rng, importances, builder, node, depth);
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
