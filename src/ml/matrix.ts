/**
 * A dense row-major matrix of float64 values: element (i, j) is `data[i * cols + j]`.
 * The one shape every model in src/ml takes; anything that grows with rows is a typed array.
 */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Wraps (or allocates) a row-major matrix; throws if the buffer does not match the shape. */
export function matrix(rows: number, cols: number, data = new Float64Array(rows * cols)): Matrix {
  if (data.length !== rows * cols) {
    throw new RangeError(`matrix: buffer has ${data.length} values, expected ${rows} x ${cols}`);
  }
  return { data, rows, cols };
}

/** A fitted regressor: pure prediction plus a tagged, JSON-safe description of itself. */
export interface Regressor {
  /** Predicts one value per row of X (X.cols must equal the training column count). */
  predict(X: Matrix): Float64Array;
  /** Tagged plain object (`{ kind, ... }`) that `modelFromJson` turns back into the same model. */
  toJSON(): ModelJson;
}

/** The serialized form of any model: a `kind` tag and plain JSON values. */
export interface ModelJson {
  readonly kind: string;
  readonly [key: string]: unknown;
}
