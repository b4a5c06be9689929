/** Small helpers for the tree-model tests (not used by production code). */
import { matrix } from './matrix';
import type { Matrix } from './matrix';

export function toMatrix(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => data.set(r, i * cols));
  return matrix(rows.length, cols, data);
}

export function mae(pred: Float64Array, y: readonly number[] | Float64Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i]! - y[i]!);
  return s / pred.length;
}
