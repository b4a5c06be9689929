import { buildDesign, isCalendarFeature, timelineOf } from './features';
import type { Forecaster } from './forecaster';
import type { Series } from './types';

/** Format tag and version of a training reference (the bundle's `reference.json`). */
export const REFERENCE_FORMAT = 'icecream-training-reference';
export const REFERENCE_FORMAT_VERSION = 1;

/** One variable's training distribution as a quantile sketch. */
export interface FeatureSketch {
  /** `temperature`, `target` (sales), or a model feature name (`sales_lag_1`, `temp_ma_7`, ...) */
  feature: string;
  /** training rows behind the sketch */
  n: number;
  /** quantiles at 0, 1/(k-1), ..., 1 (k = length; linear interpolation, 6 significant digits) */
  quantiles: number[];
}

/**
 * The training distributions a drift monitor compares live requests with: the temperature and the
 * target (sales) of every training row, and each model feature that is not a function of the date
 * alone (see `isCalendarFeature`; `temp` is the temperature again) over the rows with complete
 * features. Compact: `points` quantiles per variable, whatever the number of rows.
 */
export interface TrainingReference {
  format: typeof REFERENCE_FORMAT;
  version: typeof REFERENCE_FORMAT_VERSION;
  features: FeatureSketch[];
}

/** A reference document that cannot be read (bad shape or version). Not retryable. */
export class ReferenceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceFormatError';
  }
}

function sketch(feature: string, values: ArrayLike<number>, points: number): FeatureSketch {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const quantiles: number[] = [];
  for (let i = 0; i < points && n > 0; i++) {
    const pos = ((n - 1) * i) / (points - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    const q = sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
    quantiles.push(Number(q.toPrecision(6)));
  }
  return { feature, n, quantiles };
}

/**
 * The training reference of forecaster `f` trained on `series` (rows without complete features
 * are left out of the feature sketches). Deterministic. Throws a RangeError for `points` < 2.
 */
export function trainingReference(f: Forecaster, series: Series, points = 101): TrainingReference {
  if (!Number.isInteger(points) || points < 2)
    throw new RangeError(`trainingReference: points must be an integer >= 2, got ${points}`);
  const features = [
    sketch('temperature', series.temperature, points),
    sketch('target', series.target, points),
  ];
  const design = buildDesign(f.features, timelineOf(f.features, series));
  const { rows, cols, data } = design.X;
  const column = new Float64Array(rows);
  design.names.forEach((name, j) => {
    if (name === 'temp' || isCalendarFeature(name) || rows === 0) return;
    for (let i = 0; i < rows; i++) column[i] = data[i * cols + j]!;
    features.push(sketch(name, column, points));
  });
  return { format: REFERENCE_FORMAT, version: REFERENCE_FORMAT_VERSION, features };
}

/**
 * Checks a parsed reference document.
 * @throws ReferenceFormatError naming what is wrong
 */
export function parseTrainingReference(doc: unknown): TrainingReference {
  const d = doc as Partial<TrainingReference> | null;
  if (typeof d !== 'object' || d === null || d.format !== REFERENCE_FORMAT)
    throw new ReferenceFormatError(`not an ${REFERENCE_FORMAT} document`);
  if (d.version !== REFERENCE_FORMAT_VERSION)
    throw new ReferenceFormatError(
      `unsupported reference version ${JSON.stringify(d.version)} (this build reads ${REFERENCE_FORMAT_VERSION})`,
    );
  if (!Array.isArray(d.features)) throw new ReferenceFormatError('reference lacks "features"');
  for (const s of d.features as unknown[]) {
    const f = s as Partial<FeatureSketch> | null;
    if (
      typeof f?.feature !== 'string' ||
      typeof f.n !== 'number' ||
      !Array.isArray(f.quantiles) ||
      f.quantiles.length === 0 ||
      !f.quantiles.every((q) => typeof q === 'number' && Number.isFinite(q))
    )
      throw new ReferenceFormatError(
        `reference feature ${JSON.stringify(f?.feature)} needs a name, n and finite quantiles`,
      );
  }
  return d as TrainingReference;
}
