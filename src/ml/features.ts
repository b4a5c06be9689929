import { calendar, parseDay } from './dates';
import { matrix, type Matrix } from './matrix';
import type { Frequency, Series } from './types';

/**
 * What the feature builder computes. Every feature of row t uses only the target before t
 * (lags, moving averages) and the temperature / covariates at or before t (known in advance:
 * the temperature of row t is the forecast a user supplies).
 */
export interface FeatureSpec {
  frequency: Frequency;
  /** Target lags in periods (1 = previous period). */
  lags: number[];
  /** Moving averages of the target over the last w periods, ending at t-1. */
  movingAverages: number[];
  /** Temperature lags in periods. */
  temperatureLags: number[];
  /** Moving averages of the temperature over the last w periods, ending at t-1. */
  temperatureMovingAverages: number[];
  /** 1 = linear temperature, 2 adds temp^2, 3 adds temp^3 (centred at `temperatureCentre`). */
  temperaturePowers: number;
  /** Hinge terms max(0, temp - knot), knots in deg C. */
  temperatureKnots: number[];
  /** Month dummies (monthly, daily) and weekday dummies (daily). */
  calendar: boolean;
  /** Number of annual Fourier harmonics (sin + cos each). */
  fourier: number;
  /** temp x weekend-or-holiday (daily) and temp x annual season (sin/cos of the first harmonic). */
  interactions: boolean;
  /** Linear trend in years since `origin`. */
  trend: boolean;
  /** Covariate columns used at their same-row value (known in advance). */
  covariates: string[];
  /** Covariate holding a 0/1 holiday flag, or null; it also counts as a weekend for interactions. */
  holidayColumn: string | null;
  /** 'log' models log1p(sales) (lags are log1p too) and back-transforms predictions. */
  targetTransform: 'none' | 'log';
  /**
   * What the model learns, on the transformed scale: 'none' = the sales; 'last' = the change from
   * the previous period; 'level' = the deviation from the mean of the last season (12 monthly,
   * 52 weekly, 7 daily periods). Anchored models shrink towards the recent level instead of the
   * training mean, which suits trending series and tree models that cannot extrapolate.
   * Absent (older model files) = 'none'.
   */
  anchor?: 'none' | 'last' | 'level';
  /** Trend origin, ISO date (set from the first training date). */
  origin: string;
  /** Centre for the temperature powers, deg C (the training mean). */
  temperatureCentre: number;
}

/** Sensible defaults per frequency: windows of a season, a year-over-year lag pair for monthly data. */
export function defaultFeatureSpec(frequency: Frequency): FeatureSpec {
  const base = {
    frequency,
    temperaturePowers: 2,
    temperatureKnots: [] as number[],
    interactions: true,
    trend: true,
    covariates: [] as string[],
    holidayColumn: null,
    targetTransform: 'none' as const,
    anchor: 'none' as const,
    origin: '2000-01-01',
    temperatureCentre: 15,
  };
  if (frequency === 'monthly') {
    return {
      ...base,
      lags: [1, 2, 12, 13],
      movingAverages: [3, 12],
      temperatureLags: [1, 12],
      temperatureMovingAverages: [],
      calendar: true,
      fourier: 2,
    };
  }
  if (frequency === 'weekly') {
    return {
      ...base,
      lags: [1, 2, 52],
      movingAverages: [4, 13],
      temperatureLags: [1],
      temperatureMovingAverages: [4],
      calendar: false,
      fourier: 3,
    };
  }
  return {
    ...base,
    lags: [1, 2, 7, 14],
    movingAverages: [7, 28],
    temperatureLags: [1],
    temperatureMovingAverages: [7],
    calendar: true,
    fourier: 3,
  };
}

/** Names of the feature columns, in matrix order. */
export function featureNames(spec: FeatureSpec): string[] {
  const names: string[] = [];
  for (const l of spec.lags) names.push(`sales_lag_${l}`);
  for (const w of spec.movingAverages) names.push(`sales_ma_${w}`);
  names.push('temp');
  for (let p = 2; p <= spec.temperaturePowers; p++) names.push(`temp_pow_${p}`);
  for (const k of spec.temperatureKnots) names.push(`temp_above_${k}`);
  for (const l of spec.temperatureLags) names.push(`temp_lag_${l}`);
  for (const w of spec.temperatureMovingAverages) names.push(`temp_ma_${w}`);
  if (spec.calendar) {
    if (spec.frequency !== 'weekly') for (let m = 2; m <= 12; m++) names.push(`month_${m}`);
    if (spec.frequency === 'daily') for (let d = 1; d <= 6; d++) names.push(`weekday_${d}`);
  }
  for (let k = 1; k <= spec.fourier; k++) names.push(`fourier_sin_${k}`, `fourier_cos_${k}`);
  if (spec.interactions) {
    if (spec.frequency === 'daily') names.push('temp_x_weekend');
    names.push('temp_x_season_sin', 'temp_x_season_cos');
  }
  if (spec.trend) names.push('trend_years');
  for (const c of spec.covariates) names.push(`cov_${c}`);
  return names;
}

/**
 * Whether a feature is a function of the date alone (month and weekday dummies, Fourier terms,
 * the trend): its distribution over requests only says which dates were asked, not drift.
 */
export function isCalendarFeature(name: string): boolean {
  return /^(month_|weekday_|fourier_|trend_years$)/.test(name);
}

/** The number of earlier periods a row needs before all its features exist. */
export function warmupPeriods(spec: FeatureSpec): number {
  const anchor =
    spec.anchor === 'last' ? 1 : spec.anchor === 'level' ? seasonLength(spec.frequency) : 0;
  return Math.max(
    0,
    anchor,
    ...spec.lags,
    ...spec.movingAverages,
    ...spec.temperatureLags,
    ...spec.temperatureMovingAverages,
  );
}

/** Periods in a season: 12 (monthly), 52 (weekly), 7 (daily). */
export function seasonLength(frequency: Frequency): number {
  return frequency === 'monthly' ? 12 : frequency === 'weekly' ? 52 : 7;
}

/**
 * The anchor of row t on the transformed scale (see `FeatureSpec.anchor`): 0 for 'none', else
 * computed from target[< t]. NaN when the needed history is missing.
 */
export function anchorValue(spec: FeatureSpec, tl: Timeline, t: number): number {
  if (spec.anchor === 'last') return t >= 1 ? tl.target[t - 1]! : NaN;
  if (spec.anchor === 'level') {
    const w = seasonLength(spec.frequency);
    return t >= w ? mean(tl.target, t - w, t) : NaN;
  }
  return 0;
}

/**
 * The arrays features are computed from: `target` is already transformed (see `targetTransform`)
 * and may hold NaN where unknown; a row whose needed past target is NaN gets no features.
 */
export interface Timeline {
  days: Float64Array;
  target: Float64Array;
  temperature: Float64Array;
  covariates: Record<string, Float64Array>;
}

/** Applies the spec's target transform (log1p or identity). */
export function transformTarget(spec: FeatureSpec, y: number): number {
  return spec.targetTransform === 'log' ? Math.log1p(Math.max(0, y)) : y;
}

/** Inverse of `transformTarget`. */
export function inverseTarget(spec: FeatureSpec, z: number): number {
  return spec.targetTransform === 'log' ? Math.expm1(z) : z;
}

/** Builds a timeline from a series (days parsed, target transformed). */
export function timelineOf(spec: FeatureSpec, series: Series): Timeline {
  const n = series.dates.length;
  const days = new Float64Array(n);
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    days[i] = parseDay(series.dates[i]!);
    target[i] = transformTarget(spec, series.target[i]!);
  }
  return { days, target, temperature: series.temperature, covariates: series.covariates };
}

// the trend's origin, parsed once per spec rather than once per row
let lastOrigin = '';
let lastOriginDay = NaN;
function originDay(origin: string): number {
  if (origin !== lastOrigin) {
    lastOrigin = origin;
    lastOriginDay = parseDay(origin);
  }
  return lastOriginDay;
}

function mean(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s / (to - from);
}

/**
 * Writes the features of timeline row t into `out` (length = featureNames(spec).length).
 * Reads only target[< t], temperature[<= t], covariates[t]. Returns false (out undefined) when
 * the row lacks history: a needed earlier period is before the timeline start or NaN.
 */
export function featureVector(
  spec: FeatureSpec,
  tl: Timeline,
  t: number,
  out: Float64Array,
): boolean {
  if (Number.isNaN(anchorValue(spec, tl, t))) return false;
  let j = 0;
  const y = tl.target;
  for (const l of spec.lags) {
    if (t - l < 0) return false;
    const v = y[t - l]!;
    if (Number.isNaN(v)) return false;
    out[j++] = v;
  }
  for (const w of spec.movingAverages) {
    if (t - w < 0) return false;
    const v = mean(y, t - w, t);
    if (Number.isNaN(v)) return false;
    out[j++] = v;
  }
  const temp = tl.temperature[t]!;
  const tc = temp - spec.temperatureCentre;
  out[j++] = temp;
  for (let p = 2; p <= spec.temperaturePowers; p++) out[j++] = tc ** p;
  for (const k of spec.temperatureKnots) out[j++] = Math.max(0, temp - k);
  for (const l of spec.temperatureLags) {
    if (t - l < 0) return false;
    out[j++] = tl.temperature[t - l]!;
  }
  for (const w of spec.temperatureMovingAverages) {
    if (t - w < 0) return false;
    out[j++] = mean(tl.temperature, t - w, t);
  }
  const day = tl.days[t]!;
  const cal = calendar(day);
  if (spec.calendar) {
    if (spec.frequency !== 'weekly')
      for (let m = 2; m <= 12; m++) out[j++] = cal.month === m ? 1 : 0;
    if (spec.frequency === 'daily')
      for (let d = 1; d <= 6; d++) out[j++] = cal.weekday === d ? 1 : 0;
  }
  const phase = spec.frequency === 'monthly' ? (cal.month - 1) / 12 : cal.dayOfYear / 365.25;
  for (let k = 1; k <= spec.fourier; k++) {
    out[j++] = Math.sin(2 * Math.PI * k * phase);
    out[j++] = Math.cos(2 * Math.PI * k * phase);
  }
  if (spec.interactions) {
    if (spec.frequency === 'daily') {
      const holiday = spec.holidayColumn ? (tl.covariates[spec.holidayColumn]?.[t] ?? 0) : 0;
      const weekend = cal.weekday === 0 || cal.weekday === 6 || holiday > 0 ? 1 : 0;
      out[j++] = tc * weekend;
    }
    out[j++] = tc * Math.sin(2 * Math.PI * phase);
    out[j++] = tc * Math.cos(2 * Math.PI * phase);
  }
  if (spec.trend) out[j++] = (day - originDay(spec.origin)) / 365.25;
  for (const c of spec.covariates) {
    const col = tl.covariates[c];
    out[j++] = col ? col[t]! : 0;
  }
  return true;
}

/** A design matrix plus the timeline row each of its rows came from. */
export interface Design {
  X: Matrix;
  /** timeline index of each design row */
  index: Int32Array;
  names: string[];
}

/** Builds the design matrix for timeline rows [from, to), skipping rows without enough history. */
export function buildDesign(
  spec: FeatureSpec,
  tl: Timeline,
  from = 0,
  to = tl.days.length,
): Design {
  const names = featureNames(spec);
  const p = names.length;
  const data = new Float64Array(Math.max(0, to - from) * p);
  const index = new Int32Array(Math.max(0, to - from));
  let r = 0;
  for (let t = from; t < to; t++) {
    if (featureVector(spec, tl, t, data.subarray(r * p, (r + 1) * p))) index[r++] = t;
  }
  return { X: matrix(r, p, data.slice(0, r * p)), index: index.slice(0, r), names };
}

/** Completes a partial spec with the frequency defaults and the training-derived origin and centre. */
export function resolveFeatureSpec(
  series: Series,
  partial: Partial<FeatureSpec> = {},
): FeatureSpec {
  const base = defaultFeatureSpec(series.frequency);
  let tempMean = 0;
  for (let i = 0; i < series.temperature.length; i++) tempMean += series.temperature[i]!;
  tempMean = series.temperature.length ? tempMean / series.temperature.length : 0;
  const holiday = Object.keys(series.covariates).find((c) => c.toLowerCase() === 'holiday') ?? null;
  const spec: FeatureSpec = {
    ...base,
    covariates: Object.keys(series.covariates).sort(),
    holidayColumn: holiday,
    origin: series.dates[0] ?? base.origin,
    temperatureCentre: Math.round(tempMean * 1000) / 1000,
    ...partial,
    frequency: series.frequency,
  };
  for (const c of spec.covariates) {
    if (!(c in series.covariates))
      throw new RangeError(`feature spec names covariate "${c}" that the series does not have`);
  }
  return spec;
}
