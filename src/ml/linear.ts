import type { Matrix, ModelJson, Regressor } from './matrix';

/**
 * Regularised linear regression on standardised inputs (population standard deviation, like
 * scikit-learn's StandardScaler); the intercept is never penalised.
 *
 * Objectives, on standardised X (z) and centred y, matching scikit-learn's:
 * - ridge: ||y - z w||^2 + alpha ||w||^2 (closed form, Cholesky)
 * - lasso / elastic net: (1 / 2n) ||y - z w||^2 + alpha l1Ratio ||w||_1 + alpha (1 - l1Ratio) / 2 ||w||^2
 *   (cyclic coordinate descent)
 */
export interface LinearParams {
  alpha?: number;
  /** elastic net mix, 0..1 (1 = lasso) */
  l1Ratio?: number;
  maxIter?: number;
  tol?: number;
}

export type LinearFamily = 'ridge' | 'lasso' | 'elasticnet';

/** JSON form of a fitted linear model: coefficients on the ORIGINAL feature scale. */
export interface LinearModelJson extends ModelJson {
  kind: 'linear';
  family: LinearFamily;
  intercept: number;
  coef: number[];
  /** standardised coefficients (coef x feature std), a scale-free importance */
  standardizedCoef: number[];
}

class LinearModel implements Regressor {
  constructor(
    readonly family: LinearFamily,
    readonly intercept: number,
    readonly coef: Float64Array,
    readonly standardizedCoef: Float64Array,
  ) {}

  predict(X: Matrix): Float64Array {
    if (X.cols !== this.coef.length)
      throw new RangeError(`linear model expects ${this.coef.length} columns, got ${X.cols}`);
    const out = new Float64Array(X.rows);
    const p = X.cols;
    for (let i = 0; i < X.rows; i++) {
      let s = this.intercept;
      const o = i * p;
      for (let j = 0; j < p; j++) s += X.data[o + j]! * this.coef[j]!;
      out[i] = s;
    }
    return out;
  }

  toJSON(): LinearModelJson {
    return {
      kind: 'linear',
      family: this.family,
      intercept: this.intercept,
      coef: Array.from(this.coef),
      standardizedCoef: Array.from(this.standardizedCoef),
    };
  }
}

/** Rebuilds a linear model from its JSON; throws a TypeError on a malformed object. */
export function linearModelFromJson(json: ModelJson): Regressor {
  const j = json as Partial<LinearModelJson>;
  if (j.kind !== 'linear' || typeof j.intercept !== 'number' || !Array.isArray(j.coef)) {
    throw new TypeError('not a linear model JSON');
  }
  const family = j.family ?? 'ridge';
  const coef = Float64Array.from(j.coef);
  const std = Float64Array.from(Array.isArray(j.standardizedCoef) ? j.standardizedCoef : j.coef);
  return new LinearModel(family, j.intercept, coef, std);
}

interface Standardized {
  z: Float64Array; // column-major n x p for coordinate descent speed
  means: Float64Array;
  scales: Float64Array;
  yc: Float64Array;
  yMean: number;
}

function standardize(X: Matrix, y: Float64Array): Standardized {
  const { rows: n, cols: p, data } = X;
  const means = new Float64Array(p);
  const scales = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) means[j]! += data[i * p + j]!;
  for (let j = 0; j < p; j++) means[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const d = data[i * p + j]! - means[j]!;
      scales[j]! += d * d;
    }
  }
  for (let j = 0; j < p; j++) {
    const s = Math.sqrt(scales[j]! / n);
    // constant column: scale 1 leaves it all zeros after centring, so its weight stays 0
    scales[j] = s > 1e-12 * (1 + Math.abs(means[j]!)) ? s : 1;
  }
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) z[j * n + i] = (data[i * p + j]! - means[j]!) / scales[j]!;
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i]!;
  yMean /= n;
  const yc = new Float64Array(n);
  for (let i = 0; i < n; i++) yc[i] = y[i]! - yMean;
  return { z, means, scales, yc, yMean };
}

/** Solves A x = b for symmetric positive definite A (p x p, row-major) by Cholesky; A is overwritten. */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array {
  for (let j = 0; j < p; j++) {
    let d = A[j * p + j]!;
    for (let k = 0; k < j; k++) d -= A[j * p + k]! ** 2;
    if (!(d > 0)) throw new RangeError('choleskySolve: matrix is not positive definite');
    const l = Math.sqrt(d);
    A[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let s = A[i * p + j]!;
      for (let k = 0; k < j; k++) s -= A[i * p + k]! * A[j * p + k]!;
      A[i * p + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < p; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= A[i * p + k]! * x[k]!;
    x[i] = s / A[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < p; k++) s -= A[k * p + i]! * x[k]!;
    x[i] = s / A[i * p + i]!;
  }
  return x;
}

function ridgeWeights(s: Standardized, n: number, p: number, alpha: number): Float64Array {
  const A = new Float64Array(p * p);
  const b = new Float64Array(p);
  const { z, yc } = s;
  for (let a = 0; a < p; a++) {
    for (let c = a; c < p; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += z[a * n + i]! * z[c * n + i]!;
      A[a * p + c] = sum;
      A[c * p + a] = sum;
    }
    let sb = 0;
    for (let i = 0; i < n; i++) sb += z[a * n + i]! * yc[i]!;
    b[a] = sb;
    // a tiny jitter keeps alpha = 0 solvable for collinear features
    A[a * p + a]! += Math.max(alpha, 1e-10);
  }
  return choleskySolve(A, b, p);
}

function coordinateDescent(
  s: Standardized,
  n: number,
  p: number,
  alpha: number,
  l1Ratio: number,
  maxIter: number,
  tol: number,
): Float64Array {
  const { z, yc } = s;
  const w = new Float64Array(p);
  const r = Float64Array.from(yc);
  const colSq = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let q = 0;
    for (let i = 0; i < n; i++) q += z[j * n + i]! ** 2;
    colSq[j] = q;
  }
  const l1 = alpha * l1Ratio * n;
  const l2 = alpha * (1 - l1Ratio) * n;
  let yNorm = 0;
  for (let i = 0; i < n; i++) yNorm = Math.max(yNorm, Math.abs(yc[i]!));
  for (let iter = 0; iter < maxIter; iter++) {
    let maxDelta = 0;
    let maxW = 0;
    for (let j = 0; j < p; j++) {
      if (colSq[j] === 0) continue;
      const old = w[j]!;
      let rho = 0;
      const o = j * n;
      for (let i = 0; i < n; i++) rho += z[o + i]! * r[i]!;
      rho += colSq[j]! * old;
      const soft = Math.sign(rho) * Math.max(Math.abs(rho) - l1, 0);
      const nw = soft / (colSq[j]! + l2);
      if (nw !== old) {
        const d = nw - old;
        for (let i = 0; i < n; i++) r[i]! -= d * z[o + i]!;
        w[j] = nw;
      }
      maxDelta = Math.max(maxDelta, Math.abs(nw - old));
      maxW = Math.max(maxW, Math.abs(nw));
    }
    if (maxW === 0 || maxDelta <= tol * maxW) break;
  }
  return w;
}

/**
 * Fits ridge / lasso / elastic net. X is n x p row-major; y has n values.
 * Defaults: alpha 1, l1Ratio 0.5 (elasticnet), maxIter 10000, tol 1e-7 (relative weight change).
 * Throws a RangeError for an empty or mismatched input.
 */
export function fitLinear(
  family: LinearFamily,
  X: Matrix,
  y: Float64Array,
  params: LinearParams = {},
): Regressor {
  const n = X.rows;
  const p = X.cols;
  if (n === 0) throw new RangeError('fitLinear: no rows');
  if (y.length !== n) throw new RangeError(`fitLinear: ${n} rows but ${y.length} targets`);
  const alpha = params.alpha ?? 1;
  const s = standardize(X, y);
  let w: Float64Array;
  if (family === 'ridge') {
    w = p === 0 ? new Float64Array(0) : ridgeWeights(s, n, p, alpha);
  } else {
    const l1Ratio = family === 'lasso' ? 1 : (params.l1Ratio ?? 0.5);
    w = coordinateDescent(s, n, p, alpha, l1Ratio, params.maxIter ?? 10_000, params.tol ?? 1e-7);
  }
  const coef = new Float64Array(p);
  let intercept = s.yMean;
  for (let j = 0; j < p; j++) {
    coef[j] = w[j]! / s.scales[j]!;
    intercept -= coef[j]! * s.means[j]!;
  }
  return new LinearModel(family, intercept, coef, w);
}
