/**
 * Best-first growth of a least-squares boosting tree from gradient histograms (LightGBM /
 * scikit-learn HistGradientBoosting style), for trees with few, large leaves.
 *
 * Each node keeps its rows as a segment of one of two row buffers and a histogram of
 * (sum of gradients, row count) per (feature, bin); only the smaller child's histogram is built
 * from rows, the larger one is the parent's minus it (computed in the parent's buffer).
 * The hessian of the squared error is 1, so the row count doubles as the hessian sum.
 * The row loops (histogram, partition) run in the WebAssembly kernel of hist-kernel.ts.
 */
import type { BinnedFeatures } from './binning';
import { HIST_STRIDE, HistKernel } from './hist-kernel';
import { TreeBuilder } from './tree-nodes';
import type { TreeArrays } from './tree-nodes';

export interface HistGrowParams {
  readonly maxLeafNodes: number;
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly l2: number;
  readonly learningRate: number;
}

/** Largest maxLeafNodes for which the root histogram is carried from tree to tree. */
const MAX_INCREMENTAL_LEAVES = 128;

/**
 * Buffers reused across the trees of one boosting run. One workspace serves one sequence of
 * trees in which each tree's gradients are the previous ones plus that tree's leaf values
 * (least squares), which lets the root histogram be carried over.
 */
export class HistWorkspace {
  /**
   * Codes, gradients and the two row buffers (a node's rows are a segment of one of them;
   * splitting writes the children's rows into the same segment of the other).
   */
  readonly kernel: HistKernel;
  /** Root histogram of the next tree when it is updated incrementally (see growHistTree). */
  nextRoot: Float64Array | null = null;
  private readonly pool: Float64Array[] = [];

  constructor(readonly binned: BinnedFeatures) {
    if (binned.layout !== 'columns') throw new TypeError('HistWorkspace needs column-major codes');
    this.kernel = new HistKernel(binned.codes, binned.rows, binned.cols);
  }

  takeHistogram(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.binned.cols * HIST_STRIDE);
  }

  giveBack(h: Float64Array): void {
    this.pool.push(h);
  }
}

interface HistNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  /** Which of the kernel's two buffers holds the node's rows. */
  buf: number;
  sumG: number;
  count: number;
  hist: Float64Array | null;
  gain: number;
  feature: number;
  bin: number;
  leftG: number;
  leftCount: number;
}

/**
 * Grows one tree on `grad` (prediction minus target), adds its shrunk leaf values to `raw` for
 * the training rows, accumulates split gains into `importances`, and returns the tree (values
 * already multiplied by the learning rate).
 */
export function growHistTree(
  ws: HistWorkspace,
  grad: Float64Array,
  params: HistGrowParams,
  raw: Float64Array,
  importances: Float64Array,
): TreeArrays {
  const { rows, cols, nBins, edges } = ws.binned;
  const { kernel } = ws;
  const { buffers } = kernel;
  const { maxLeafNodes, maxDepth, minSamplesLeaf: msl, l2, learningRate } = params;
  kernel.grad.set(grad);
  const first = buffers[0];
  for (let i = 0; i < rows; i++) first[i] = i;

  const builder = new TreeBuilder(2 * Math.min(maxLeafNodes, rows));
  let sumG = 0;
  for (let i = 0; i < rows; i++) sumG += grad[i]!;
  const root = newNode(builder.addNode(), 0, rows, 0, 0, sumG, rows);
  root.hist = ws.takeHistogram();
  // Squared error: the next tree's gradients are these plus each row's leaf value, so its root
  // histogram is this one plus (leaf value x leaf counts) summed over the leaves: 31 x 5,120
  // products instead of a pass over every row and feature. Only kept for small trees (the
  // leaves' histograms must all stay alive until the end).
  const incremental = maxLeafNodes <= MAX_INCREMENTAL_LEAVES;
  if (incremental && ws.nextRoot) {
    root.hist.set(ws.nextRoot);
  } else {
    kernel.histogram(0, 0, rows);
    root.hist.set(kernel.scratch);
  }
  if (incremental) {
    ws.nextRoot ??= new Float64Array(root.hist.length);
    ws.nextRoot.set(root.hist);
  }
  findSplit(root);
  const leaves: HistNode[] = [root];

  while (leaves.length < maxLeafNodes) {
    let best = -1;
    for (let k = 0; k < leaves.length; k++) {
      const l = leaves[k]!;
      if (l.feature >= 0 && (best < 0 || l.gain > leaves[best]!.gain)) best = k;
    }
    if (best < 0) break;
    const node = leaves[best]!;
    const { start, end, feature, bin } = node;

    // The left count is known from the histogram: one stable pass into the other buffer.
    const mid = start + node.leftCount;
    kernel.partition(node.buf, feature, start, end, mid, bin);
    const childBuf = 1 - node.buf;
    const left = newNode(
      builder.addNode(),
      start,
      mid,
      node.depth + 1,
      childBuf,
      node.leftG,
      node.leftCount,
    );
    const right = newNode(
      builder.addNode(),
      mid,
      end,
      node.depth + 1,
      childBuf,
      node.sumG - node.leftG,
      node.count - node.leftCount,
    );
    builder.setSplit(node.id, feature, edges[feature]![bin]!, left.id, right.id);
    importances[feature] = importances[feature]! + node.gain;

    const parentHist = node.hist!;
    node.hist = null;
    const small = left.count <= right.count ? left : right;
    const large = small === left ? right : left;
    kernel.histogram(childBuf, small.start, small.end);
    const sh = kernel.scratch;
    small.hist = ws.takeHistogram();
    small.hist.set(sh);
    for (let k = 0; k < parentHist.length; k++) parentHist[k] = parentHist[k]! - sh[k]!;
    large.hist = parentHist;

    leaves[best] = left;
    leaves.push(right);
    // After the last allowed split the children are final: no split search.
    if (leaves.length < maxLeafNodes) {
      findSplit(left);
      findSplit(right);
    }
  }

  const next = incremental ? ws.nextRoot : null;
  for (const leaf of leaves) {
    const v = (-learningRate * leaf.sumG) / (leaf.count + l2);
    builder.setValue(leaf.id, v);
    const partition = buffers[leaf.buf]!;
    for (let i = leaf.start; i < leaf.end; i++) {
      const r = partition[i]!;
      raw[r] = raw[r]! + v;
    }
    const h = leaf.hist;
    if (next && h) for (let k = 0; k < h.length; k += 2) next[k] = next[k]! + v * h[k + 1]!;
    if (h) ws.giveBack(h);
    leaf.hist = null;
  }
  return builder.finish();

  function findSplit(node: HistNode): void {
    node.feature = -1;
    if (node.depth >= maxDepth || node.count < 2 * msl) {
      if (node.hist && !incremental) {
        ws.giveBack(node.hist);
        node.hist = null;
      }
      return;
    }
    const h = node.hist!;
    const { sumG, count } = node;
    const parentScore = (sumG * sumG) / (count + l2);
    let bestGain = 0;
    for (let f = 0; f < cols; f++) {
      const base = f * HIST_STRIDE;
      const last = nBins[f]! - 1;
      let gL = 0;
      let cL = 0;
      for (let b = 0; b < last; b++) {
        const cb = h[base + 2 * b + 1]!;
        // An empty bin gives the same split as the bin before it.
        if (cb === 0) continue;
        gL += h[base + 2 * b]!;
        cL += cb;
        if (cL < msl) continue;
        const cR = count - cL;
        if (cR < msl) break;
        const gR = sumG - gL;
        // gL²/hL + gR²/hR over one division (this loop runs 5,000 times per node).
        const hL = cL + l2;
        const hR = cR + l2;
        const gain = (gL * gL * hR + gR * gR * hL) / (hL * hR) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          node.feature = f;
          node.bin = b;
          node.leftG = gL;
          node.leftCount = cL;
        }
      }
    }
    node.gain = bestGain;
  }
}

function newNode(
  id: number,
  start: number,
  end: number,
  depth: number,
  buf: number,
  sumG: number,
  count: number,
): HistNode {
  return {
    id,
    start,
    end,
    depth,
    buf,
    sumG,
    count,
    hist: null,
    gain: 0,
    feature: -1,
    bin: 0,
    leftG: 0,
    leftCount: 0,
  };
}
