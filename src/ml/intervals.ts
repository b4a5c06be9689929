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

/**
 * Fewest residuals at one horizon for its own conformal quantile: enough for the
 * ceil((n + 1) * coverage)-th smallest to exist, and at least 10.
 */
export function minHorizonResiduals(coverage: number): number {
  return Math.max(10, Math.ceil(coverage / (1 - coverage)));
}

/**
 * Split-conformal half-widths per forecast horizon: `residualsByHorizon[h - 1]` holds the
 * out-of-sample errors (actual - predicted) of forecasts h periods after their origin, and entry
 * h - 1 of the result is the half-width for that horizon.
 *
 * A horizon with at least {@link minHorizonResiduals} residuals gets its own conformal quantile
 * ({@link conformalHalfWidth}). A horizon with fewer (the far horizons: fewer backtest origins
 * reach them) takes the width of the last well-estimated horizon h0 before it scaled by
 * sqrt(h / h0), the growth of a random walk's error. The widths are then made non-decreasing in
 * h (cumulative maximum): a forecast further ahead is never more certain.
 * Throws a RangeError when the first horizon has no residual or the coverage is outside (0, 1).
 */
export function horizonHalfWidths(
  residualsByHorizon: readonly ArrayLike<number>[],
  coverage: number,
): number[] {
  const first = residualsByHorizon[0];
  if (!first || first.length === 0)
    throw new RangeError('horizonHalfWidths: no residuals at the first horizon');
  const min = minHorizonResiduals(coverage);
  const out: number[] = [];
  let anchor = { h: 1, width: conformalHalfWidth(first, coverage) };
  residualsByHorizon.forEach((res, i) => {
    const h = i + 1;
    let width: number;
    if (res.length >= min || h === 1) {
      width = conformalHalfWidth(res, coverage);
      anchor = { h, width };
    } else {
      width = anchor.width * Math.sqrt(h / anchor.h);
    }
    out.push(Math.max(width, out[i - 1] ?? 0));
  });
  return out;
}
