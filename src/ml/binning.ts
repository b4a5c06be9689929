/**
 * Feature binning for the tree models: each column is cut into at most 255 bins once, so that
 * split finding works on small integer codes instead of sorting floats at every node.
 *
 * A value x falls in bin b = the first index with x <= edges[b] (bin edges.length when above all
 * edges), so "code <= b" during training is exactly "x <= edges[b]" at prediction time.
 * A column with at most maxBins distinct values gets one bin per value and edges at the
 * midpoints (as scikit-learn's exact tree splitter does), so small data is split exactly.
 * Otherwise edges are quantiles with the midpoint rule, computed on a seeded subsample of at
 * most 50,000 rows (scikit-learn samples 200,000; 50,000 give each of 255 bins ~200 sample
 * values, plenty for its edges, and halve the sorting at 100k rows).
 */
import type { Matrix } from './matrix';
import { mulberry32, randomInt } from './tree-random';

/** Binned copy of a feature matrix. */
export interface BinnedFeatures {
  readonly rows: number;
  readonly cols: number;
  /** Layout of `codes`: the bin of X[i, f] is codes[f * rows + i] ('columns') or codes[i * cols + f] ('rows'). */
  readonly layout: BinLayout;
  readonly codes: Uint8Array;
  /** Number of bins of each feature (1 for a constant column). */
  readonly nBins: Int32Array;
  /** Per feature, the nBins - 1 ascending edges (thresholds between bins). */
  readonly edges: readonly Float64Array[];
  /** Smallest and largest training value in each bin: binMin[f * 256 + b] (unused bins: +-Infinity). */
  readonly binMin: Float64Array;
  readonly binMax: Float64Array;
}

export type BinLayout = 'columns' | 'rows';

/** The largest maxBins: codes are bytes. */
export const MAX_BINS = 255;
const SUBSAMPLE = 50_000;

/**
 * Bins every column of X (all values must be finite; callers check). Deterministic for a seed.
 * With `rowIndex`, only those rows are binned (row i of the result is X row rowIndex[i]) and
 * the edges come from them alone.
 * @throws RangeError if maxBins is not an integer in [2, 255].
 */
export function binFeatures(
  X: Matrix,
  maxBins: number,
  seed: number,
  layout: BinLayout = 'columns',
  rowIndex?: Int32Array,
): BinnedFeatures {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new RangeError(`maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  const { cols, data } = X;
  const rows = rowIndex ? rowIndex.length : X.rows;
  const sample = sampleRows(rows, seed);
  const edges: Float64Array[] = [];
  const nBins = new Int32Array(cols);
  const column = new Float64Array(sample ? sample.length : rows);
  for (let f = 0; f < cols; f++) {
    if (sample) {
      for (let k = 0; k < sample.length; k++)
        column[k] = data[(rowIndex ? rowIndex[sample[k]!]! : sample[k]!) * cols + f]!;
    } else if (rowIndex) {
      for (let i = 0; i < rows; i++) column[i] = data[rowIndex[i]! * cols + f]!;
    } else {
      for (let i = 0, k = f; i < rows; i++, k += cols) column[i] = data[k]!;
    }
    column.sort();
    const e = findEdges(column, maxBins);
    edges.push(e);
    nBins[f] = e.length + 1;
  }
  const codes = new Uint8Array(rows * cols);
  const binMin = new Float64Array(cols * 256).fill(Infinity);
  const binMax = new Float64Array(cols * 256).fill(-Infinity);
  const srcRow = rowIndex ?? null;
  const values = new Float64Array(rows);
  const table = new Int32Array(2 * LOOKUP_CELLS);
  for (let f = 0; f < cols; f++) {
    if (srcRow) for (let i = 0; i < rows; i++) values[i] = data[srcRow[i]! * cols + f]!;
    else for (let i = 0, k = f; i < rows; i++, k += cols) values[i] = data[k]!;
    const out = layout === 'columns' ? f * rows : f;
    const step = layout === 'columns' ? 1 : cols;
    mapColumn(values, edges[f]!, codes, out, step, table, binMin, binMax, f * 256);
  }
  return { rows, cols, layout, codes, nBins, edges, binMin, binMax };
}

/** The bin of x for a feature's edges (same rule as binFeatures). */
export function binOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const LOOKUP_CELLS = 4096;

/**
 * Writes the bin of every value to codes[out + i * step] and widens each bin's [min, max].
 * A table over equal-width cells of [first edge, last edge] gives the range of codes a cell can
 * hold, so most values need no search at all; wide ranges fall back to binary search, and a
 * final step down and up makes the result exact whatever the rounding of the cell index.
 */
function mapColumn(
  values: Float64Array,
  e: Float64Array,
  codes: Uint8Array,
  out: number,
  step: number,
  table: Int32Array,
  binMin: Float64Array,
  binMax: Float64Array,
  bb: number,
): void {
  const len = e.length;
  const n = values.length;
  if (len === 0) {
    for (let i = 0, o = out; i < n; i++, o += step) {
      const x = values[i]!;
      codes[o] = 0;
      if (x < binMin[bb]!) binMin[bb] = x;
      if (x > binMax[bb]!) binMax[bb] = x;
    }
    return;
  }
  const lo = e[0]!;
  const span = e[len - 1]! - lo;
  const scale = span > 0 ? LOOKUP_CELLS / span : 0;
  // Cell starts increase, so one walk over the edges finds every cell's first code.
  let code0 = 0;
  for (let c = 0; c < LOOKUP_CELLS; c++) {
    const start = scale > 0 ? lo + c / scale : lo;
    while (code0 < len && start > e[code0]!) code0++;
    table[2 * c] = code0;
    if (c > 0) table[2 * c - 1] = code0;
  }
  table[2 * LOOKUP_CELLS - 1] = len;
  for (let i = 0, o = out; i < n; i++, o += step) {
    const x = values[i]!;
    let code: number;
    if (x <= lo) code = 0;
    else if (x > e[len - 1]!) code = len;
    else {
      let cell = Math.floor((x - lo) * scale);
      if (cell >= LOOKUP_CELLS) cell = LOOKUP_CELLS - 1;
      code = table[2 * cell]!;
      const end = table[2 * cell + 1]!;
      if (end - code > 8) {
        let hi = end;
        while (code < hi) {
          const mid = (code + hi) >>> 1;
          if (x <= e[mid]!) hi = mid;
          else code = mid + 1;
        }
      }
      while (code < len && x > e[code]!) code++;
      while (code > 0 && x <= e[code - 1]!) code--;
    }
    codes[o] = code;
    const k = bb + code;
    if (x < binMin[k]!) binMin[k] = x;
    if (x > binMax[k]!) binMax[k] = x;
  }
}

/** Sorted subsample of row indices when there are more rows than SUBSAMPLE, else null. */
function sampleRows(rows: number, seed: number): Int32Array | null {
  if (rows <= SUBSAMPLE) return null;
  const rng = mulberry32(seed);
  const idx = new Int32Array(rows);
  for (let i = 0; i < rows; i++) idx[i] = i;
  for (let k = 0; k < SUBSAMPLE; k++) {
    const j = k + randomInt(rng, rows - k);
    const t = idx[k]!;
    idx[k] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, SUBSAMPLE).sort();
}

/** Edges from a sorted column: midpoints between distinct values, or midpoint quantiles. */
function findEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  let distinct = 1;
  for (let i = 1; i < n && distinct <= maxBins; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= maxBins) {
    const e = new Float64Array(distinct - 1);
    let k = 0;
    for (let i = 1; i < n; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      if (a !== b) e[k++] = midpoint(a, b);
    }
    return e;
  }
  // Percentiles 100 * j / maxBins for j = 1 .. maxBins - 1, numpy's 'midpoint' method.
  const out: number[] = [];
  for (let j = 1; j < maxBins; j++) {
    const pos = (j / maxBins) * (n - 1);
    const lo = sorted[Math.floor(pos)]!;
    const hi = sorted[Math.ceil(pos)]!;
    const v = midpoint(lo, hi);
    if (out.length === 0 || v > out[out.length - 1]!) out.push(v);
  }
  // The top edge must stay below the maximum, or the last bin would be empty.
  while (out.length > 0 && out[out.length - 1]! >= sorted[n - 1]!) out.pop();
  return Float64Array.from(out);
}

/** scikit-learn's split threshold between two consecutive values a < b. */
export function midpoint(a: number, b: number): number {
  const m = a / 2 + b / 2;
  return m === b || !Number.isFinite(m) ? a : m;
}
