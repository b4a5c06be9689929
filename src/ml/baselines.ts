import { computeMetrics } from './metrics';
import type { Frequency, Metrics, Series } from './types';

/** Seasonal period used by the seasonal naive baseline: 12 (monthly), 52 (weekly), 7 (daily: same weekday last week). */
export function seasonalPeriod(frequency: Frequency): number {
  return frequency === 'monthly' ? 12 : frequency === 'weekly' ? 52 : 7;
}

/** Naive one-step predictions for rows [from, to): last value, and the value one season earlier (falls back to last value). */
export function naivePredictions(
  series: Series,
  from: number,
  to = series.target.length,
): { lastValue: Float64Array; seasonalNaive: Float64Array; seasonalPeriod: number } {
  if (from < 1 || to > series.target.length || from >= to)
    throw new RangeError(
      `naive baselines need 1 <= from < to <= ${series.target.length}, got [${from}, ${to})`,
    );
  const period = seasonalPeriod(series.frequency);
  const y = series.target;
  const lastValue = new Float64Array(to - from);
  const seasonalNaive = new Float64Array(to - from);
  for (let t = from; t < to; t++) {
    lastValue[t - from] = y[t - 1]!;
    seasonalNaive[t - from] = t - period >= 0 ? y[t - period]! : y[t - 1]!;
  }
  return { lastValue, seasonalNaive, seasonalPeriod: period };
}

/**
 * Metrics of the two naive baselines on rows [from, to): last value (y[t-1]) and seasonal naive
 * (y[t - period], see `seasonalPeriod`). Throws a RangeError when from < 1 or the range is empty.
 */
export function naiveBaselines(
  series: Series,
  from: number,
  to = series.target.length,
): { lastValue: Metrics; seasonalNaive: Metrics; seasonalPeriod: number } {
  const p = naivePredictions(series, from, to);
  const actual = series.target.subarray(from, to);
  return {
    lastValue: computeMetrics(actual, p.lastValue),
    seasonalNaive: computeMetrics(actual, p.seasonalNaive),
    seasonalPeriod: p.seasonalPeriod,
  };
}
