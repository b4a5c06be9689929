import type { Frequency } from './types';

const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_MONTH = /^(\d{4})-(\d{2})$/;

/**
 * Parses `YYYY-MM-DD` (or `YYYY-MM`, read as the first of the month) into a day number
 * (days since 1970-01-01, UTC). Returns NaN for anything else, including impossible dates.
 */
export function parseDay(text: string): number {
  const s = text.trim();
  let m = ISO_DAY.exec(s);
  let y: number, mo: number, d: number;
  if (m) {
    y = Number(m[1]);
    mo = Number(m[2]);
    d = Number(m[3]);
  } else {
    m = ISO_MONTH.exec(s);
    if (!m) return NaN;
    y = Number(m[1]);
    mo = Number(m[2]);
    d = 1;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return NaN;
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return NaN;
  return Math.round(ms / DAY_MS);
}

/** Formats a day number as `YYYY-MM-DD`. */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Calendar parts of a day number: month 1-12, weekday 0 = Sunday .. 6 = Saturday, day of year 0-based. */
export function calendar(day: number): {
  year: number;
  month: number;
  weekday: number;
  dayOfYear: number;
} {
  const d = new Date(day * DAY_MS);
  const year = d.getUTCFullYear();
  const start = Math.round(Date.UTC(year, 0, 1) / DAY_MS);
  return { year, month: d.getUTCMonth() + 1, weekday: d.getUTCDay(), dayOfYear: day - start };
}

/** Months since January 1970 of a day number (for monthly arithmetic). */
export function monthIndex(day: number): number {
  const d = new Date(day * DAY_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth() - 1970 * 12;
}

/** The day number of the first of the month `index` months after January 1970. */
export function dayOfMonthIndex(index: number): number {
  return Math.round(Date.UTC(1970, index, 1) / DAY_MS);
}

/** Number of periods from `fromDay` to `toDay` at the given frequency (may be fractional if misaligned). */
export function periodsBetween(fromDay: number, toDay: number, frequency: Frequency): number {
  if (frequency === 'monthly') return monthIndex(toDay) - monthIndex(fromDay);
  return (toDay - fromDay) / (frequency === 'weekly' ? 7 : 1);
}

/** The day `k` periods after `day` (monthly: first of the month). */
export function addPeriods(day: number, k: number, frequency: Frequency): number {
  if (frequency === 'monthly') return dayOfMonthIndex(monthIndex(day) + k);
  return day + k * (frequency === 'weekly' ? 7 : 1);
}

/** Periods per year: 12, 52 or 365.25. */
export function periodsPerYear(frequency: Frequency): number {
  return frequency === 'monthly' ? 12 : frequency === 'weekly' ? 52 : 365.25;
}

/**
 * Infers the frequency from the median spacing of sorted dates: 1 day -> daily, 7 -> weekly,
 * 28-31 -> monthly. Throws a RangeError with fewer than two parseable dates or another spacing.
 */
export function inferFrequency(dates: string[]): Frequency {
  const days = dates.map(parseDay).filter((d) => Number.isFinite(d));
  days.sort((a, b) => a - b);
  const diffs: number[] = [];
  for (let i = 1; i < days.length; i++) {
    const diff = days[i]! - days[i - 1]!;
    if (diff > 0) diffs.push(diff);
  }
  if (diffs.length === 0)
    throw new RangeError('inferFrequency: need at least two distinct valid dates');
  diffs.sort((a, b) => a - b);
  const median = diffs[Math.floor(diffs.length / 2)]!;
  if (median === 1) return 'daily';
  if (median === 7) return 'weekly';
  if (median >= 28 && median <= 31) return 'monthly';
  throw new RangeError(
    `inferFrequency: median spacing of ${median} days is not daily, weekly or monthly`,
  );
}
