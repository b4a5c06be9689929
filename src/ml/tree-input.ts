/**
 * Input and parameter checks shared by the tree models. Every failure names the function,
 * the argument and, for bad values, the first offending row and column.
 */
import type { Matrix } from './matrix';

/**
 * Checks a training set: X is a well-formed Matrix with at least one row and column, y has
 * one finite value per row, and every value of X is finite.
 * @throws TypeError when X or y is not the right kind of object; RangeError for shapes and values.
 */
export function checkTrainingData(X: Matrix, y: Float64Array, who: string): void {
  checkMatrix(X, who);
  if (!(y instanceof Float64Array)) {
    throw new TypeError(`${who}: y must be a Float64Array`);
  }
  if (X.rows === 0) {
    throw new RangeError(`${who}: X has zero rows; at least one training row is needed`);
  }
  if (X.cols === 0) {
    throw new RangeError(`${who}: X has zero columns; at least one feature is needed`);
  }
  if (y.length !== X.rows) {
    throw new RangeError(`${who}: y has ${y.length} values but X has ${X.rows} rows`);
  }
  checkFiniteMatrix(X, who);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(`${who}: y[${i}] is ${v}; the target must be finite`);
    }
  }
}

/**
 * Checks a prediction input against the training column count.
 * @throws TypeError for a malformed Matrix; RangeError for a column mismatch or a non-finite value.
 */
export function checkPredictData(X: Matrix, nFeatures: number, who: string): void {
  checkMatrix(X, who);
  if (X.cols !== nFeatures) {
    throw new RangeError(
      `${who}: X has ${X.cols} columns but the model was trained on ${nFeatures}`,
    );
  }
  checkFiniteMatrix(X, who);
}

function checkMatrix(X: Matrix, who: string): void {
  if (typeof X !== 'object' || X === null || !(X.data instanceof Float64Array)) {
    throw new TypeError(`${who}: X must be a Matrix with a Float64Array 'data'`);
  }
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols < 0) {
    throw new RangeError(`${who}: X has an invalid shape ${X.rows} x ${X.cols}`);
  }
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(
      `${who}: X.data has ${X.data.length} values, expected ${X.rows} x ${X.cols}`,
    );
  }
}

function checkFiniteMatrix(X: Matrix, who: string): void {
  const d = X.data;
  for (let k = 0; k < d.length; k++) {
    // v - v is NaN for NaN and for +-Infinity: one comparison per value on the hot path.
    const v = d[k]!;
    if (v - v !== 0) {
      const row = Math.floor(k / X.cols);
      throw new RangeError(
        `${who}: X[${row}, ${k - row * X.cols}] is ${v}; features must be finite`,
      );
    }
  }
}

/** An integer >= min (Infinity allowed when `allowInfinity`), else RangeError naming it. */
export function intParam(
  who: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  allowInfinity = false,
): number {
  const v = value ?? fallback;
  if (allowInfinity && v === Infinity) return v;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(
      `${who}: ${name} must be an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}, got ${String(v)}`,
    );
  }
  return v;
}

/** A finite number in [min, max] (bounds open when the flags say so), else RangeError naming it. */
export function numParam(
  who: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  openMin = false,
  openMax = false,
): number {
  const v = value ?? fallback;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (openMin ? v > min : v >= min) &&
    (openMax ? v < max : v <= max);
  if (!ok) {
    throw new RangeError(
      `${who}: ${name} must be in ${openMin ? '(' : '['}${min}, ${max}${openMax ? ')' : ']'}, got ${String(v)}`,
    );
  }
  return v;
}

/**
 * Resolves `maxFeatures` to a count: a value in (0, 1] is a fraction of the columns (1 = all,
 * at least one), an integer >= 2 is a count (capped at the column count).
 */
export function resolveMaxFeatures(
  who: string,
  value: number | undefined,
  fallback: number,
  nFeatures: number,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number' && v > 0 && v <= 1) return Math.max(1, Math.floor(v * nFeatures));
  if (typeof v === 'number' && Number.isInteger(v) && v >= 2) return Math.min(v, nFeatures);
  throw new RangeError(
    `${who}: maxFeatures must be a fraction in (0, 1] or an integer count >= 2, got ${String(v)}`,
  );
}
