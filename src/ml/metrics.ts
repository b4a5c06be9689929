import type { Metrics } from './types';

/**
 * MAE, RMSE, MAPE (%; rows with actual 0 skipped), sMAPE (%; 0/0 counts as 0), R^2
 * (0 when the actuals are constant) and n. Throws a RangeError when lengths differ or n = 0.
 */
export function computeMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): Metrics {
  const n = actual.length;
  if (predicted.length !== n)
    throw new RangeError(`computeMetrics: ${n} actuals but ${predicted.length} predictions`);
  if (n === 0) throw new RangeError('computeMetrics: no rows');
  let abs = 0;
  let sq = 0;
  let ape = 0;
  let apeN = 0;
  let sape = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i]!;
  mean /= n;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    const e = a - p;
    abs += Math.abs(e);
    sq += e * e;
    tot += (a - mean) ** 2;
    if (a !== 0) {
      ape += Math.abs(e / a);
      apeN++;
    }
    const den = Math.abs(a) + Math.abs(p);
    if (den > 0) sape += (2 * Math.abs(e)) / den;
  }
  return {
    mae: abs / n,
    rmse: Math.sqrt(sq / n),
    mape: apeN ? (100 * ape) / apeN : 0,
    smape: (100 * sape) / n,
    r2: tot > 0 ? 1 - sq / tot : 0,
    n,
  };
}
