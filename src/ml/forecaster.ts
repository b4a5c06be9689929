import { addPeriods, formatDay, parseDay, periodsBetween } from './dates';
import {
  anchorValue,
  buildDesign,
  featureNames,
  featureVector,
  inverseTarget,
  resolveFeatureSpec,
  timelineOf,
  transformTarget,
  warmupPeriods,
  type FeatureSpec,
  type Timeline,
} from './features';
import { conformalHalfWidth, horizonHalfWidths } from './intervals';
import { matrix, type ModelJson, type Regressor } from './matrix';
import { computeMetrics } from './metrics';
import { fitModel, modelFromJson } from './models';
import type { FeatureRow, Frequency, ModelFamily, Prediction, Series } from './types';

/** What to fit: a family with its hyperparameters, feature overrides, a seed and the interval coverage (e.g. 0.9). */
export interface ForecasterConfig {
  family: ModelFamily;
  params: Record<string, number>;
  features?: Partial<FeatureSpec>;
  seed: number;
  coverage: number;
}

/** How the interval half-width was calibrated. */
export interface IntervalInfo {
  method: 'split-conformal' | 'cv-residuals' | 'in-sample';
  coverage: number;
  /** prediction +/- halfWidth (target units), lower bound clipped at 0: one step ahead */
  halfWidth: number;
  nResiduals: number;
  /**
   * Half-widths by horizon: entry h - 1 for a row h periods after the history's last date
   * (non-decreasing; see `horizonHalfWidths`), calibrated on recursive backtests from rolling
   * origins. Absent in older models and when no backtests were given: `halfWidth` at every horizon.
   */
  byHorizon?: number[];
  /** Residuals behind each entry of `byHorizon` (far horizons have fewer). */
  nByHorizon?: number[];
}

/** Plain-data history tail kept in the model so a server can build lag features (see `historyFromForecaster`). */
export interface HistoryTail {
  dates: string[];
  target: number[];
  temperature: number[];
  covariates: Record<string, number[]>;
}

/**
 * A fitted forecaster: plain JSON-safe data (no functions), so it serializes byte-identically.
 * Build with `fitForecaster`, use with `forecast` / `backtest`, store with `serializeForecaster`.
 */
export interface Forecaster {
  config: ForecasterConfig;
  features: FeatureSpec;
  featureNames: string[];
  model: ModelJson;
  interval: IntervalInfo;
  training: {
    rows: number;
    /** rows with complete features (rows - warmup) */
    usedRows: number;
    from: string;
    to: string;
    frequency: Series['frequency'];
    inSampleMae: number;
    /** smallest and largest training target; predictions are capped at max + (max - min) */
    targetMin: number;
    targetMax: number;
    covariateMeans: Record<string, number>;
  };
  history: HistoryTail;
}

/** Bad input to fit/forecast: misaligned or unparseable dates, too little history, non-finite values. */
export class ForecastInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForecastInputError';
  }
}

/** Options for `fitForecaster`. */
export interface FitOptions {
  /**
   * Out-of-sample residuals (actual - predicted, target units) to calibrate the interval, e.g. from
   * cross-validation. Without them the last 20% of the training rows is held out (split conformal).
   */
  residuals?: ArrayLike<number>;
  /** false skips the split-conformal refit (interval from in-sample residuals; used inside CV folds). Default true. */
  calibrate?: boolean;
  /**
   * Out-of-sample residuals of recursive forecasts by horizon (entry h - 1: h periods after the
   * origin; see {@link horizonResiduals}): calibrates `interval.byHorizon`.
   */
  horizonResiduals?: readonly ArrayLike<number>[];
}

const MIN_TRAIN_ROWS = 8;

/**
 * Fits a forecaster on a gap-free series. Deterministic: same series + config => identical output.
 * Throws ForecastInputError when fewer than 8 rows have complete features, ModelUnavailableError
 * for a family not wired in.
 */
export function fitForecaster(
  train: Series,
  config: ForecasterConfig,
  options: FitOptions = {},
): Forecaster {
  if (!(config.coverage > 0 && config.coverage < 1))
    throw new ForecastInputError(`coverage must be in (0, 1), got ${config.coverage}`);
  const spec = resolveFeatureSpec(train, config.features);
  const tl = timelineOf(spec, train);
  const design = buildDesign(spec, tl);
  const m = design.X.rows;
  if (m < MIN_TRAIN_ROWS) {
    throw new ForecastInputError(
      `only ${m} training rows have complete features (need ${MIN_TRAIN_ROWS}; the features look back ${warmupPeriods(spec)} periods)`,
    );
  }
  // the model learns target - anchor (anchor 0 unless the spec anchors to the recent level)
  const anchors = new Float64Array(m);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const t = design.index[i]!;
    anchors[i] = anchorValue(spec, tl, t);
    y[i] = tl.target[t]! - anchors[i]!;
  }
  const model = fitModel(config.family, design.X, y, config.params, config.seed);
  const fitted = model.predict(design.X);
  for (let i = 0; i < m; i++) fitted[i]! += anchors[i]!;
  const actual = new Float64Array(m);
  const pred = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    actual[i] = train.target[design.index[i]!]!;
    pred[i] = Math.max(0, inverseTarget(spec, fitted[i]!));
  }
  const interval = calibrate(spec, config, design, y, anchors, actual, pred, options, tl, train);
  if (options.horizonResiduals?.[0]?.length) {
    interval.byHorizon = horizonHalfWidths(options.horizonResiduals, config.coverage);
    interval.nByHorizon = options.horizonResiduals.map((r) => r.length);
  }
  const covariateMeans: Record<string, number> = {};
  for (const c of spec.covariates) {
    const col = train.covariates[c]!;
    let s = 0;
    for (let i = 0; i < col.length; i++) s += col[i]!;
    covariateMeans[c] = col.length ? s / col.length : 0;
  }
  const keep = Math.min(train.dates.length, Math.max(warmupPeriods(spec), 1));
  const start = train.dates.length - keep;
  const covs: Record<string, number[]> = {};
  for (const c of spec.covariates) covs[c] = Array.from(train.covariates[c]!.subarray(start));
  return {
    config: structuredCloneConfig(config),
    features: spec,
    featureNames: design.names,
    model: model.toJSON(),
    interval,
    training: {
      rows: train.dates.length,
      usedRows: m,
      from: train.dates[0]!,
      to: train.dates[train.dates.length - 1]!,
      frequency: train.frequency,
      inSampleMae: computeMetrics(actual, pred).mae,
      targetMin: train.target.reduce((a, b) => Math.min(a, b), Infinity),
      targetMax: train.target.reduce((a, b) => Math.max(a, b), -Infinity),
      covariateMeans,
    },
    history: {
      dates: train.dates.slice(start),
      target: Array.from(train.target.subarray(start)),
      temperature: Array.from(train.temperature.subarray(start)),
      covariates: covs,
    },
  };
}

function structuredCloneConfig(config: ForecasterConfig): ForecasterConfig {
  const out: ForecasterConfig = {
    family: config.family,
    params: { ...config.params },
    seed: config.seed,
    coverage: config.coverage,
  };
  if (config.features)
    out.features = JSON.parse(JSON.stringify(config.features)) as Partial<FeatureSpec>;
  return out;
}

function calibrate(
  spec: FeatureSpec,
  config: ForecasterConfig,
  design: ReturnType<typeof buildDesign>,
  y: Float64Array,
  anchors: Float64Array,
  actual: Float64Array,
  inSample: Float64Array,
  options: FitOptions,
  tl: Timeline,
  train: Series,
): IntervalInfo {
  if (options.residuals && options.residuals.length > 0) {
    return {
      method: 'cv-residuals',
      coverage: config.coverage,
      halfWidth: conformalHalfWidth(options.residuals, config.coverage),
      nResiduals: options.residuals.length,
    };
  }
  const m = design.X.rows;
  const nCal = Math.floor(m * 0.2);
  if (options.calibrate !== false && nCal >= 5 && m - nCal >= MIN_TRAIN_ROWS) {
    const p = design.X.cols;
    const fitX = matrix(m - nCal, p, design.X.data.slice(0, (m - nCal) * p));
    const calX = matrix(nCal, p, design.X.data.slice((m - nCal) * p));
    const model = fitModel(config.family, fitX, y.slice(0, m - nCal), config.params, config.seed);
    const cal = model.predict(calX);
    const res = new Float64Array(nCal);
    for (let i = 0; i < nCal; i++)
      res[i] =
        actual[m - nCal + i]! - Math.max(0, inverseTarget(spec, cal[i]! + anchors[m - nCal + i]!));
    // the same split, forecast recursively from each calibration row as an origin
    const lo = train.target.reduce((a, b) => Math.min(a, b), Infinity);
    const hi = train.target.reduce((a, b) => Math.max(a, b), -Infinity);
    const byH = recursiveErrors(
      spec,
      model,
      (v) => Math.min(Math.max(0, v), hi + (hi - lo)),
      tl,
      train.target,
      design.index[m - nCal]!,
      tl.days.length,
      horizonOf(spec.frequency),
    );
    return {
      method: 'split-conformal',
      coverage: config.coverage,
      halfWidth: conformalHalfWidth(res, config.coverage),
      nResiduals: nCal,
      byHorizon: horizonHalfWidths(byH, config.coverage),
      nByHorizon: byH.map((r) => r.length),
    };
  }
  const res = new Float64Array(m);
  for (let i = 0; i < m; i++) res[i] = actual[i]! - inSample[i]!;
  return {
    method: 'in-sample',
    coverage: config.coverage,
    halfWidth: conformalHalfWidth(res, config.coverage),
    nResiduals: m,
  };
}

/** The history tail stored in a forecaster, as a Series (seed for a server's sales history). */
export function historyFromForecaster(f: Forecaster): Series {
  const covariates: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(f.history.covariates)) covariates[k] = Float64Array.from(v);
  return {
    dates: [...f.history.dates],
    target: Float64Array.from(f.history.target),
    temperature: Float64Array.from(f.history.temperature),
    covariates,
    frequency: f.training.frequency,
  };
}

const modelCache = new WeakMap<ModelJson, Regressor>();
function regressorOf(f: Forecaster): Regressor {
  let r = modelCache.get(f.model);
  if (!r) {
    r = modelFromJson(f.model);
    modelCache.set(f.model, r);
  }
  return r;
}

/**
 * One-step-ahead predictions for `rows` (any order; returned in the same order). A row inside the
 * history gets features from the actuals before its date; a row after the history's end gets them
 * recursively from earlier predictions. Periods between the history's end and a requested row that
 * no row describes take the temperature of the next requested row and the covariates' training means.
 * Each row's interval has the half-width of its horizon (see {@link halfWidthAt}).
 * Throws ForecastInputError for an unparseable or misaligned date, a date before the history has
 * enough look-back, a non-finite temperature, or a history of another frequency.
 */
/** Options of {@link forecast}. */
export interface ForecastOptions {
  /**
   * The furthest period after the history's last date a row may ask for (1 = the next period).
   * Past it the forecast is recursive on its own guesses for too long to be honest, and its cost
   * grows with the distance: such a row throws ForecastInputError. Unbounded when omitted.
   */
  maxHorizon?: number;
  /** true: each prediction also carries its feature vector (`Prediction.features`), for drift checks. */
  features?: boolean;
}

/** The default forecast horizon in periods after the history's end: 24 months, 8 weeks or 56 days. */
export function horizonOf(frequency: Frequency): number {
  return frequency === 'monthly' ? 24 : frequency === 'weekly' ? 8 : 56;
}

const periodName = { daily: 'days', weekly: 'weeks', monthly: 'months' } as const;

export function forecast(
  f: Forecaster,
  history: Series,
  rows: FeatureRow[],
  options: ForecastOptions = {},
): Prediction[] {
  const spec = f.features;
  if (history.frequency !== spec.frequency)
    throw new ForecastInputError(
      `history is ${history.frequency} but the model is ${spec.frequency}`,
    );
  if (history.dates.length === 0) throw new ForecastInputError('history is empty');
  const n = history.dates.length;
  const startDay = parseDay(history.dates[0]!);
  const pos = rows.map((r) => {
    const day = parseDay(r.date);
    if (!Number.isFinite(day)) throw new ForecastInputError(`unparseable date "${r.date}"`);
    if (!Number.isFinite(r.temperature))
      throw new ForecastInputError(`temperature for ${r.date} is not a finite number`);
    const k = periodsBetween(startDay, day, spec.frequency);
    if (
      !Number.isInteger(k) ||
      (spec.frequency === 'monthly' && formatDay(day).slice(8) !== '01')
    ) {
      throw new ForecastInputError(
        `date ${r.date} is not on the ${spec.frequency} grid of the history`,
      );
    }
    if (k < warmupPeriods(spec))
      throw new ForecastInputError(
        `date ${r.date} needs ${warmupPeriods(spec)} earlier periods of history`,
      );
    const ahead = k - (n - 1);
    if (options.maxHorizon !== undefined && ahead > options.maxHorizon) {
      throw new ForecastInputError(
        `date ${r.date} is ${ahead} ${periodName[spec.frequency]} after the last known date ${history.dates[n - 1]!}; this model forecasts at most ${options.maxHorizon} ${periodName[spec.frequency]} ahead`,
      );
    }
    return k;
  });
  const maxK = Math.max(n - 1, ...pos);
  const N = maxK + 1;
  const tl = extendTimeline(f, history, N);
  // rows override the temperature/covariates of their own period
  const byPos = new Map<number, FeatureRow>();
  rows.forEach((r, i) => byPos.set(pos[i]!, r));
  for (const [k, r] of byPos) {
    tl.temperature[k] = r.temperature;
    for (const c of spec.covariates) {
      const v = r.covariates?.[c];
      if (v !== undefined && Number.isFinite(v)) tl.covariates[c]![k] = v;
    }
  }
  // back-fill temperatures of undescribed future periods from the next described one
  let next = NaN;
  for (let k = N - 1; k >= n; k--) {
    if (byPos.has(k)) next = byPos.get(k)!.temperature;
    else tl.temperature[k] = next;
  }
  const model = regressorOf(f);
  const p = f.featureNames.length;
  const out = new Map<number, number>();
  const kept = options.features ? new Map<number, Float64Array>() : undefined;
  // rows inside the history: one batch
  const inside = [...new Set(pos.filter((k) => k < n))].sort((a, b) => a - b);
  if (inside.length) {
    const X = matrix(inside.length, p);
    inside.forEach((k, i) => {
      if (!featureVector(spec, tl, k, X.data.subarray(i * p, (i + 1) * p)))
        throw new ForecastInputError(`not enough history before ${formatDay(tl.days[k]!)}`);
    });
    const z = model.predict(X);
    inside.forEach((k, i) => out.set(k, z[i]! + anchorValue(spec, tl, k)));
    if (kept) inside.forEach((k, i) => kept.set(k, X.data.slice(i * p, (i + 1) * p)));
  }
  // after the history: recursive, each prediction becomes the next period's lag
  const x = matrix(1, p);
  for (let k = n; k < N; k++) {
    if (!featureVector(spec, tl, k, x.data))
      throw new ForecastInputError(`not enough history before ${formatDay(tl.days[k]!)}`);
    const z = model.predict(x)[0]! + anchorValue(spec, tl, k);
    const yhat = clampPrediction(f, inverseTarget(spec, z));
    tl.target[k] = transformTarget(spec, yhat);
    out.set(k, z);
    if (kept && byPos.has(k)) kept.set(k, x.data.slice());
  }
  return rows.map((r, i) => {
    const yhat = clampPrediction(f, inverseTarget(spec, out.get(pos[i]!)!));
    const hw = halfWidthAt(f.interval, pos[i]! - (n - 1));
    const pred: Prediction = {
      date: formatDay(parseDay(r.date)),
      prediction: yhat,
      lower: Math.max(0, yhat - hw),
      upper: yhat + hw,
    };
    const features = kept?.get(pos[i]!);
    if (features) pred.features = features;
    return pred;
  });
}

/**
 * The interval half-width for a row `ahead` periods after the history's last date (<= 1: a row
 * inside the history or the next period, forecast from actuals). Past the calibrated horizons the
 * last width grows by sqrt(ahead / H); a model without per-horizon widths uses `halfWidth`.
 */
export function halfWidthAt(interval: IntervalInfo, ahead: number): number {
  const widths = interval.byHorizon;
  if (!widths?.length || ahead <= 1) return interval.halfWidth;
  const H = widths.length;
  const w = ahead <= H ? widths[ahead - 1]! : widths[H - 1]! * Math.sqrt(ahead / H);
  return Math.max(interval.halfWidth, w);
}

/** Sales are >= 0, and a prediction far beyond anything seen in training is an extrapolation accident. */
function clampPrediction(f: Forecaster, y: number): number {
  const cap = f.training.targetMax + (f.training.targetMax - f.training.targetMin);
  return Math.min(Math.max(0, y), cap);
}

// A serving process forecasts from the same history many times: the history's parsed timeline
// (parsing its dates dominated the cost) and a scratch timeline to extend it into (allocating
// one per call dominated the rest, in the garbage collector) are kept per history object and
// feature spec. Series are never mutated in place (new data makes a new Series), so identity is
// a safe key; forecast() is synchronous, so one scratch per history cannot be used twice at once.
interface TimelineCache {
  spec: FeatureSpec;
  base: Timeline;
  scratch: Timeline | undefined;
}
const timelines = new WeakMap<Series, TimelineCache>();

function timelineCache(spec: FeatureSpec, history: Series): TimelineCache {
  let cache = timelines.get(history);
  if (cache?.spec !== spec) {
    cache = { spec, base: timelineOf(spec, history), scratch: undefined };
    timelines.set(history, cache);
  }
  return cache;
}

/** Backtests and training read the base timeline; only forecast() extends it. */
function extendTimeline(f: Forecaster, history: Series, N: number): Timeline {
  const spec = f.features;
  const cache = timelineCache(spec, history);
  const base = cache.base;
  const n = history.dates.length;
  if (!cache.scratch || cache.scratch.days.length < N) {
    const capacity = Math.max(N, n + 32);
    const days = new Float64Array(capacity);
    days.set(base.days);
    const startDay = base.days[0]!;
    for (let k = n; k < capacity; k++) days[k] = addPeriods(startDay, k, spec.frequency);
    const covariates: Record<string, Float64Array> = {};
    for (const c of spec.covariates) covariates[c] = new Float64Array(capacity);
    cache.scratch = {
      days,
      target: new Float64Array(capacity),
      temperature: new Float64Array(capacity),
      covariates,
    };
  }
  const { days, target, temperature, covariates: cov } = cache.scratch;
  target.set(base.target);
  target.fill(NaN, n, N);
  temperature.set(history.temperature);
  const covariates: Record<string, Float64Array> = {};
  for (const c of spec.covariates) {
    const col = cov[c]!;
    const h = history.covariates[c];
    col.fill(f.training.covariateMeans[c] ?? 0, h ? h.length : 0, N);
    if (h) col.set(h);
    covariates[c] = col.subarray(0, N);
  }
  return {
    days: days.subarray(0, N),
    target: target.subarray(0, N),
    temperature: temperature.subarray(0, N),
    covariates,
  };
}

/**
 * Errors of recursive forecasts from rolling origins: for each origin o in [from, to), forecasts
 * rows o, o + 1, ... up to `steps` periods (and the series' end) from the actuals before o alone,
 * each prediction becoming the next rows' lag as in {@link forecast}, with the rows' actual
 * temperatures and covariates (what a user would supply). Entry h - 1 of the result holds
 * actual - predicted of every forecast h periods after its origin. Out of sample when `f` was
 * fitted on rows before `from`. Throws a RangeError for a bad range.
 */
export function horizonResiduals(
  f: Forecaster,
  series: Series,
  from: number,
  to: number,
  steps: number,
): Float64Array[] {
  const n = series.dates.length;
  if (from < 0 || to > n || from > to || !(steps >= 1))
    throw new RangeError(`horizonResiduals: bad range [${from}, ${to}) x ${steps} for ${n} rows`);
  return recursiveErrors(
    f.features,
    regressorOf(f),
    (y) => clampPrediction(f, y),
    timelineOf(f.features, series),
    series.target,
    from,
    to,
    steps,
  );
}

/** {@link horizonResiduals} on a timeline, for any fitted model and prediction clamp. */
function recursiveErrors(
  spec: FeatureSpec,
  model: Regressor,
  clamp: (y: number) => number,
  base: Timeline,
  actual: ArrayLike<number>,
  from: number,
  to: number,
  steps: number,
): Float64Array[] {
  const n = base.days.length;
  const tl: Timeline = { ...base, target: base.target.slice() };
  const x = matrix(1, featureNames(spec).length);
  const out: number[][] = Array.from({ length: steps }, () => []);
  for (let o = from; o < to; o++) {
    const end = Math.min(n, o + steps);
    for (let k = o; k < end; k++) {
      if (!featureVector(spec, tl, k, x.data)) break;
      const z = model.predict(x)[0]! + anchorValue(spec, tl, k);
      const yhat = clamp(inverseTarget(spec, z));
      tl.target[k] = transformTarget(spec, yhat);
      out[k - o]!.push(actual[k]! - yhat);
    }
    tl.target.set(base.target.subarray(o, end), o);
  }
  return out.map((r) => Float64Array.from(r));
}

/**
 * One-step-ahead predictions for series rows [from, to) using the actuals before each row
 * (the evaluation of a model fitted on rows before `from`). Throws like `forecast`.
 */
export function backtest(
  f: Forecaster,
  series: Series,
  from: number,
  to = series.dates.length,
): Prediction[] {
  if (from < 0 || to > series.dates.length || from > to)
    throw new RangeError(`backtest: bad range [${from}, ${to}) for ${series.dates.length} rows`);
  const rows: FeatureRow[] = [];
  for (let t = from; t < to; t++) {
    const covariates: Record<string, number> = {};
    for (const [c, col] of Object.entries(series.covariates)) covariates[c] = col[t]!;
    rows.push({ date: series.dates[t]!, temperature: series.temperature[t]!, covariates });
  }
  return forecast(f, series, rows);
}
