import type { Series } from '../ml';

/**
 * A small monthly series for unit tests: sales follow temperature (a yearly cycle) plus a trend.
 * Deterministic, no randomness.
 */
export function monthlyTestSeries(months = 60): Series {
  const dates: string[] = [];
  const target = new Float64Array(months);
  const temperature = new Float64Array(months);
  for (let i = 0; i < months; i++) {
    const year = 2010 + Math.floor(i / 12);
    const month = (i % 12) + 1;
    dates.push(`${year}-${String(month).padStart(2, '0')}-01`);
    temperature[i] = 15 + 10 * Math.sin(((month - 4) / 12) * 2 * Math.PI);
    target[i] = 300 + 25 * temperature[i]! + 2 * i + ((i * 7) % 5);
  }
  return { dates, target, temperature, covariates: {}, frequency: 'monthly' };
}
