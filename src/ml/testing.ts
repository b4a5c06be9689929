import type { Series } from './types';
import { addPeriods, formatDay, parseDay } from './dates';
import type { Frequency } from './types';

/**
 * A deterministic synthetic series for tests and examples: seasonal temperature, sales driven by
 * temperature plus a mild trend and seeded noise. Not for accuracy claims.
 */
export function syntheticSeries(
  n: number,
  frequency: Frequency = 'monthly',
  seed = 1,
  start = '2010-01-01',
): Series {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const perYear = frequency === 'monthly' ? 12 : frequency === 'weekly' ? 52 : 365.25;
  const dates: string[] = [];
  const target = new Float64Array(n);
  const temperature = new Float64Array(n);
  const rain = new Float64Array(n);
  let day = parseDay(start);
  for (let i = 0; i < n; i++) {
    dates.push(formatDay(day));
    const season = Math.sin((2 * Math.PI * i) / perYear - Math.PI / 2);
    temperature[i] = 15 + 10 * season + 2 * (rand() - 0.5);
    rain[i] = 100 * rand();
    target[i] = Math.max(
      0,
      200 + 12 * temperature[i]! + 0.3 * i - 0.2 * rain[i]! + 20 * (rand() - 0.5),
    );
    day = addPeriods(day, 1, frequency);
  }
  return { dates, target, temperature, covariates: { rain }, frequency };
}
