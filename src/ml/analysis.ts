import { calendar, parseDay } from './dates';
import type { Frequency } from './types';

/** One out-of-sample prediction with what the analysis slices by. */
export interface ScoredRow {
  date: string;
  actual: number;
  prediction: number;
  temperature: number;
  /** where the prediction came from, e.g. 'cv' or 'holdout' */
  source: string;
}

/** Error summary of a group of rows: bias = mean(actual - prediction). */
export interface GroupError {
  key: string;
  n: number;
  mae: number;
  bias: number;
}

/** Residual breakdowns (residual = actual - prediction, target units). */
export interface ErrorAnalysis {
  n: number;
  byTemperatureBand: GroupError[];
  byMonth: GroupError[];
  /** daily data only */
  byWeekday: GroupError[] | null;
  /** largest absolute errors, worst first */
  worst: (ScoredRow & { error: number })[];
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function group(rows: ScoredRow[], keyOf: (r: ScoredRow) => string, order: string[]): GroupError[] {
  const acc = new Map<string, { n: number; abs: number; sum: number }>();
  for (const r of rows) {
    const k = keyOf(r);
    const a = acc.get(k) ?? { n: 0, abs: 0, sum: 0 };
    const e = r.actual - r.prediction;
    a.n++;
    a.abs += Math.abs(e);
    a.sum += e;
    acc.set(k, a);
  }
  return order
    .filter((k) => acc.has(k))
    .map((k) => {
      const a = acc.get(k)!;
      return { key: k, n: a.n, mae: a.abs / a.n, bias: a.sum / a.n };
    });
}

/**
 * Residuals by temperature band (`bandWidth` deg C, default 5), by month, by weekday (daily data)
 * and the `worstN` (default 10) largest errors.
 */
export function analyzeErrors(
  rows: ScoredRow[],
  frequency: Frequency,
  bandWidth = 5,
  worstN = 10,
): ErrorAnalysis {
  const bandOf = (t: number) => Math.floor(t / bandWidth) * bandWidth;
  const bands = [...new Set(rows.map((r) => bandOf(r.temperature)))].sort((a, b) => a - b);
  const bandKey = (b: number) => `${b}..${b + bandWidth} C`;
  const cal = (r: ScoredRow) => calendar(parseDay(r.date));
  const worst = rows
    .map((r) => ({ ...r, error: r.actual - r.prediction }))
    .sort((a, b) => Math.abs(b.error) - Math.abs(a.error) || (a.date < b.date ? -1 : 1))
    .slice(0, worstN);
  return {
    n: rows.length,
    byTemperatureBand: group(rows, (r) => bandKey(bandOf(r.temperature)), bands.map(bandKey)),
    byMonth: group(rows, (r) => MONTHS[cal(r).month - 1]!, MONTHS),
    byWeekday:
      frequency === 'daily' ? group(rows, (r) => WEEKDAYS[cal(r).weekday]!, WEEKDAYS) : null,
    worst,
  };
}
