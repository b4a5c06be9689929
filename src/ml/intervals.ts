/**
 * Split-conformal half-width: the ceil((n + 1) * coverage)-th smallest absolute residual
 * (Lei et al. 2018, "Distribution-free predictive inference for regression", eq. for the
 * split conformal band). With too few residuals for the requested coverage it returns the
 * largest one (the band is then not guaranteed). Throws a RangeError for no residuals or a
 * coverage outside (0, 1).
 */
export function conformalHalfWidth(residuals: ArrayLike<number>, coverage: number): number {
  if (!(coverage > 0 && coverage < 1))
    throw new RangeError(`coverage must be in (0, 1), got ${coverage}`);
  const abs = Float64Array.from(residuals, (r) => Math.abs(r)).filter((r) => Number.isFinite(r));
  if (abs.length === 0) throw new RangeError('conformalHalfWidth: no residuals');
  abs.sort();
  const k = Math.ceil((abs.length + 1) * coverage);
  return abs[Math.min(k, abs.length) - 1]!;
}

/** Share of actuals inside [lower, upper], 0..1. */
export function empiricalCoverage(
  actual: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
): number {
  const n = actual.length;
  if (n === 0) return 0;
  let inside = 0;
  for (let i = 0; i < n; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) inside++;
  return inside / n;
}
