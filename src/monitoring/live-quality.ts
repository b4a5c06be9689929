/**
 * Live model quality from predictions joined to the actuals that arrived later. Pure maths.
 */

/** A prediction with its actual (and its interval when it had one). */
export interface LabelledPrediction {
  /** prediction time, ms since the epoch (for windows) */
  time: number;
  prediction: number;
  actual: number;
  lower?: number | null;
  upper?: number | null;
}

export interface LiveQuality {
  /** labelled predictions in the window */
  n: number;
  /** mean |actual - prediction|; NaN when n = 0 */
  mae: number;
  /** sqrt(mean (actual - prediction)^2); NaN when n = 0 */
  rmse: number;
  /** mean (actual - prediction): > 0 means the model predicts too low */
  bias: number;
  /** share of rows with an interval whose actual fell inside [lower, upper]; NaN if none had one */
  coverage: number;
  /** rows that had an interval */
  withInterval: number;
}

/** MAE, RMSE, bias and interval coverage over the given rows (NaN for what cannot be computed). */
export function liveQuality(rows: readonly LabelledPrediction[]): LiveQuality {
  let abs = 0;
  let sq = 0;
  let sum = 0;
  let covered = 0;
  let withInterval = 0;
  for (const r of rows) {
    const e = r.actual - r.prediction;
    abs += Math.abs(e);
    sq += e * e;
    sum += e;
    if (r.lower != null && r.upper != null) {
      withInterval++;
      if (r.actual >= r.lower && r.actual <= r.upper) covered++;
    }
  }
  const n = rows.length;
  return {
    n,
    mae: n ? abs / n : Number.NaN,
    rmse: n ? Math.sqrt(sq / n) : Number.NaN,
    bias: n ? sum / n : Number.NaN,
    coverage: withInterval ? covered / withInterval : Number.NaN,
    withInterval,
  };
}

/**
 * Live quality over the last `windowMs` before `now` (rows with now - windowMs < time <= now),
 * e.g. windows of 1 h, 24 h and 7 d for the `window` label of `icecream_live_mae`.
 */
export function liveQualityWindow(
  rows: readonly LabelledPrediction[],
  now: number,
  windowMs: number,
): LiveQuality {
  return liveQuality(rows.filter((r) => r.time > now - windowMs && r.time <= now));
}
