/**
 * Distribution drift between a reference sample (training data) and a current one (recent
 * requests or predictions): PSI, the two-sample Kolmogorov-Smirnov test and the Wasserstein-1
 * distance, and Evidently's rule for choosing between KS and Wasserstein. Pure maths, no I/O.
 */

/** Input samples must hold finite numbers; this names the sample and the position. */
export class DriftInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriftInputError';
  }
}

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new DriftInputError(`${name}: the sample is empty`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v))
      throw new DriftInputError(`${name}: value ${v} at index ${i} is not a finite number`);
    out[i] = v;
  }
  return out.sort();
}

/** The q-quantile of sorted values, linear interpolation (numpy's default "linear" method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The q-quantile (0..1) of unsorted values (linear interpolation, like numpy.quantile). */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(sortedCopy(values, 'quantile'), q);
}

/** Count of sorted values at or below x. */
function countAtOrBelow(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface PsiResult {
  psi: number;
  /** inner bin edges (quantiles of the reference); bin i holds edges[i-1] < x <= edges[i] */
  edges: number[];
  referenceShares: number[];
  currentShares: number[];
}

/**
 * Population Stability Index: sum over bins of (c - r) * ln(c / r), with r and c the shares of
 * the reference and current samples in each bin. Bins are the reference's quantiles (`bins`
 * equal-frequency bins, 10 by default; tied edges merge), so each holds about the same share of
 * the reference. Empty bins get the share `epsilon` (1e-4, as Evidently) to keep the log finite.
 * Reading (common industry rule): < 0.1 stable, 0.1-0.2 moderate shift, >= 0.2 significant.
 * @throws DriftInputError on an empty sample or a non-finite value.
 */
export function psi(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  options: { bins?: number; epsilon?: number } = {},
): PsiResult {
  const bins = options.bins ?? 10;
  const epsilon = options.epsilon ?? 1e-4;
  if (!Number.isInteger(bins) || bins < 2)
    throw new DriftInputError(`psi: bins must be an integer >= 2, got ${bins}`);
  const ref = sortedCopy(reference, 'reference');
  const cur = sortedCopy(current, 'current');
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileSorted(ref, k / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  const shares = (sorted: Float64Array): number[] => {
    const out: number[] = [];
    let prev = 0;
    for (const e of edges) {
      const c = countAtOrBelow(sorted, e);
      out.push((c - prev) / sorted.length);
      prev = c;
    }
    out.push((sorted.length - prev) / sorted.length);
    return out;
  };
  const referenceShares = shares(ref);
  const currentShares = shares(cur);
  let total = 0;
  for (let i = 0; i < referenceShares.length; i++) {
    const r = Math.max(referenceShares[i]!, epsilon);
    const c = Math.max(currentShares[i]!, epsilon);
    total += (c - r) * Math.log(c / r);
  }
  return { psi: total, edges, referenceShares, currentShares };
}

export interface KsResult {
  /** sup |F_reference(x) - F_current(x)| */
  statistic: number;
  /** two-sided p-value from the asymptotic Kolmogorov distribution */
  pValue: number;
}

/**
 * Two-sample Kolmogorov-Smirnov test (two-sided). The statistic is exact; the p-value uses the
 * asymptotic Kolmogorov distribution Q_KS(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2)
 * with lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D and ne = n m / (n + m) (Stephens'
 * small-sample correction, as in Numerical Recipes' kstwo), which is close to the exact value
 * already for ne of a few tens. `referenceSize` (default: the reference's length) is the size of
 * the sample the reference stands for when it is a quantile sketch of a larger one.
 * @throws DriftInputError on an empty sample or a non-finite value.
 */
export function ksTwoSample(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  referenceSize = reference.length,
): KsResult {
  const a = sortedCopy(reference, 'reference');
  const b = sortedCopy(current, 'current');
  const n = a.length;
  const m = b.length;
  let d = 0;
  let i = 0;
  let j = 0;
  // walk both sorted samples; compare the ECDFs after each distinct value
  while (i < n && j < m) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < n && a[i]! <= x) i++;
    while (j < m && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = (referenceSize * m) / (referenceSize + m);
  const sq = Math.sqrt(ne);
  return { statistic: d, pValue: kolmogorovQ((sq + 0.12 + 0.11 / sq) * d) };
}

/** Q_KS(lambda) = P(K > lambda) for the Kolmogorov distribution. */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  // for small lambda the alternating series converges slowly; use the theta-function form
  if (lambda < 1.18) {
    const y = Math.exp((-Math.PI * Math.PI) / (8 * lambda * lambda));
    const cdf = (Math.sqrt(2 * Math.PI) / lambda) * (y + y ** 9 + y ** 25 + y ** 49 + y ** 81);
    return Math.min(1, Math.max(0, 1 - cdf));
  }
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += (j % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Wasserstein-1 (earth mover's) distance between two empirical distributions on the line:
 * the integral of |F_a(x) - F_b(x)| dx (scipy.stats.wasserstein_distance without weights).
 * @throws DriftInputError on an empty sample or a non-finite value.
 */
export function wasserstein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = sortedCopy(a, 'reference');
  const y = sortedCopy(b, 'current');
  const all = Float64Array.from([...x, ...y]).sort();
  let total = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    const width = all[k + 1]! - all[k]!;
    if (width === 0) continue;
    const fx = countAtOrBelow(x, all[k]!) / x.length;
    const fy = countAtOrBelow(y, all[k]!) / y.length;
    total += Math.abs(fx - fy) * width;
  }
  return total;
}

/** Population standard deviation (numpy.std's default, ddof = 0). */
function populationStd(values: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - mean) ** 2;
  return Math.sqrt(ss / values.length);
}

/**
 * Wasserstein-1 distance divided by the reference's standard deviation (at least 0.001), as
 * Evidently's `wasserstein` stattest: a unit-free "how many reference stds did it move".
 */
export function normalizedWasserstein(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): number {
  return wasserstein(reference, current) / Math.max(populationStd(reference), 0.001);
}

/** When a feature counts as drifted. Defaults are Evidently's. */
export interface DriftThresholds {
  /** KS is used while the reference has at most this many rows (1000) */
  maxReferenceForKs: number;
  /** KS: drift when p < this (0.05) */
  ksPValue: number;
  /** normalised Wasserstein: drift when >= this (0.1) */
  wasserstein: number;
  /** PSI: flagged when >= this (0.2, "significant shift"); reported, not the decision */
  psi: number;
  /** fewer current rows than this: no decision yet (30) */
  minCurrent: number;
}

export const defaultDriftThresholds: DriftThresholds = {
  maxReferenceForKs: 1000,
  ksPValue: 0.05,
  wasserstein: 0.1,
  psi: 0.2,
  minCurrent: 30,
};

export interface DriftReport {
  /** the test that decides: KS for a small reference, normalised Wasserstein for a large one */
  method: 'ks' | 'wasserstein';
  /** KS statistic D, or the normalised Wasserstein distance */
  statistic: number;
  /** KS p-value (only for method 'ks') */
  pValue: number | null;
  threshold: number;
  psi: number;
  psiAlert: boolean;
  drift: boolean;
  /** false when the current sample is below minCurrent (drift is then false) */
  enough: boolean;
  referenceSize: number;
  currentSize: number;
  reason: string;
}

/**
 * Compares one feature's current sample with its reference with Evidently's default rule:
 * reference <= 1000 rows: two-sample KS, drift when p < 0.05; larger: Wasserstein distance
 * normalised by the reference std, drift when >= 0.1. PSI on reference-quantile bins is always
 * reported (and flagged from 0.2) as the easy-to-read number. A reference given as a quantile
 * sketch of a larger sample passes that sample's size as `referenceSize`: it chooses the test and
 * sets the KS p-value's effective size, as the full sample would.
 * @throws DriftInputError on an empty sample or a non-finite value.
 */
export function driftReport(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  thresholds: Partial<DriftThresholds> = {},
  referenceSize = reference.length,
): DriftReport {
  const t = { ...defaultDriftThresholds, ...thresholds };
  const p = psi(reference, current).psi;
  const base = {
    psi: p,
    psiAlert: p >= t.psi,
    referenceSize,
    currentSize: current.length,
    enough: current.length >= t.minCurrent,
  };
  let report: DriftReport;
  if (referenceSize <= t.maxReferenceForKs) {
    const ks = ksTwoSample(reference, current, referenceSize);
    const drift = ks.pValue < t.ksPValue;
    report = {
      ...base,
      method: 'ks',
      statistic: ks.statistic,
      pValue: ks.pValue,
      threshold: t.ksPValue,
      drift,
      reason: `KS D = ${ks.statistic.toFixed(3)}, p = ${ks.pValue.toPrecision(3)} (drift when p < ${t.ksPValue})`,
    };
  } else {
    const w = normalizedWasserstein(reference, current);
    report = {
      ...base,
      method: 'wasserstein',
      statistic: w,
      pValue: null,
      threshold: t.wasserstein,
      drift: w >= t.wasserstein,
      reason: `normalised Wasserstein = ${w.toFixed(3)} (drift when >= ${t.wasserstein})`,
    };
  }
  if (!report.enough) {
    report.drift = false;
    report.reason = `only ${current.length} current rows (${t.minCurrent} needed); ${report.reason}`;
  }
  return report;
}
