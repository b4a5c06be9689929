/**
 * Canary analysis: should the `staging` model that takes part of the traffic replace
 * `production`, be taken out, or run longer? Gates in the style of Flagger / Argo Rollouts
 * (error rate, p99 latency) plus live quality with a minimum sample count and the promotion
 * gate's significance rule. Pure maths, no I/O.
 */
import { dieboldMariano, studentTCdf } from '../ml/significance';

/** What one arm did over the analysis window. */
export interface ArmObservation {
  version: string;
  /** requests this arm answered */
  requests: number;
  /** of which failed on the server side (5xx, a failed prediction) */
  serverErrors: number;
  /** p99 latency in seconds, null when unknown */
  p99Seconds: number | null;
  /** actual - prediction for this arm's predictions that have an actual */
  residuals: ArrayLike<number>;
}

/** The thresholds of the analysis. `defaultCanaryPolicy` holds the defaults. */
export interface CanaryPolicy {
  /** fewer canary requests than this: wait */
  minRequests: number;
  /** fewer labelled predictions in either arm than this: wait */
  minLabels: number;
  /** at this many canary labels without a significant gain: roll back (production stays) */
  maxLabels: number;
  /** canary error rate must stay <= max(production rate + margin, floor) */
  errorRateMargin: number;
  errorRateFloor: number;
  /** canary p99 must stay <= ratio * production p99 and <= the absolute limit */
  p99Ratio: number;
  p99MaxSeconds: number;
  /** the promotion gate's rule: relative MAE gain required and the p-value that makes it real */
  minImprovement: number;
  maxPValue: number;
}

export const defaultCanaryPolicy: CanaryPolicy = {
  minRequests: 50,
  minLabels: 20,
  maxLabels: 200,
  errorRateMargin: 0.01,
  errorRateFloor: 0.01,
  p99Ratio: 1.2,
  p99MaxSeconds: 0.5,
  // same numbers as src/pipeline's defaultPromotionPolicy
  minImprovement: 0.02,
  maxPValue: 0.05,
};

export type CanaryVerdict = 'promote' | 'rollback' | 'wait';

export interface CanaryCheck {
  name: 'traffic' | 'error-rate' | 'latency' | 'labels' | 'quality';
  result: 'pass' | 'fail' | 'inconclusive';
  detail: string;
}

export interface CanaryDecision {
  verdict: CanaryVerdict;
  /** one sentence per check that decided, for the audit record and the version's tag */
  reasons: string[];
  checks: CanaryCheck[];
  quality: {
    canaryMae: number;
    productionMae: number;
    canaryLabels: number;
    productionLabels: number;
    /** one-sided p-value of "the canary is not more accurate" */
    pBetter: number;
    /** one-sided p-value of "the canary is not less accurate" */
    pWorse: number;
    test: 'diebold-mariano' | 'welch';
  } | null;
}

export interface WelchResult {
  statistic: number;
  df: number;
  /** P(T <= t): small when sample a's mean is below b's */
  pLess: number;
}

/**
 * Welch's unequal-variance t-test of mean(a) vs mean(b) (scipy.stats.ttest_ind with
 * equal_var=False). Equal samples with zero variance give t = 0 and pLess = 0.5.
 * @throws RangeError with fewer than 2 values in a sample.
 */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>): WelchResult {
  if (a.length < 2 || b.length < 2)
    throw new RangeError(
      `welchTTest: needs at least 2 values per sample, got ${a.length} and ${b.length}`,
    );
  const stats = (x: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < x.length; i++) m += x[i]!;
    m /= x.length;
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += (x[i]! - m) ** 2;
    return { mean: m, varOverN: ss / (x.length - 1) / x.length, n: x.length };
  };
  const sa = stats(a);
  const sb = stats(b);
  const se2 = sa.varOverN + sb.varOverN;
  const diff = sa.mean - sb.mean;
  if (!(se2 > 0)) {
    const statistic = diff === 0 ? 0 : diff < 0 ? -Infinity : Infinity;
    return { statistic, df: sa.n + sb.n - 2, pLess: diff === 0 ? 0.5 : diff < 0 ? 0 : 1 };
  }
  const statistic = diff / Math.sqrt(se2);
  const df = (se2 * se2) / (sa.varOverN ** 2 / (sa.n - 1) + sb.varOverN ** 2 / (sb.n - 1));
  return { statistic, df, pLess: studentTCdf(statistic, df) };
}

function meanAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]!);
  return x.length ? s / x.length : Number.NaN;
}

function absolute(x: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => Math.abs(x[i]!));
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/**
 * Compares the canary with production over one window and says what to do:
 * 1. traffic: fewer than `minRequests` canary requests -> wait;
 * 2. error rate: canary rate > max(production + margin, floor) -> rollback;
 * 3. latency: canary p99 > ratio x production p99, or > the absolute limit -> rollback;
 * 4. labels: fewer than `minLabels` labelled predictions in either arm -> wait;
 * 5. quality, with the promotion gate's rule: MAE gain >= `minImprovement` and one-sided
 *    p < `maxPValue` -> promote; significantly worse -> rollback; neither after `maxLabels` canary
 *    labels -> rollback (no evidence it is better, production stays); otherwise wait.
 * The test is Diebold-Mariano on `paired` errors when given (a shadow, or both arms scored on the
 * same periods: the same test as the promotion gate), else Welch's t-test on absolute errors
 * (each request went to one arm only).
 */
export function canaryAnalysis(
  input: {
    production: ArmObservation;
    canary: ArmObservation;
    /** errors of both models on the same rows, same order (from shadow scoring) */
    paired?: { canary: ArrayLike<number>; production: ArrayLike<number> } | undefined;
  },
  policy: Partial<CanaryPolicy> = {},
): CanaryDecision {
  const p = { ...defaultCanaryPolicy, ...policy };
  const { production: prod, canary } = input;
  const checks: CanaryCheck[] = [];
  const decide = (
    verdict: CanaryVerdict,
    quality: CanaryDecision['quality'] = null,
  ): CanaryDecision => ({
    verdict,
    reasons: checks
      .filter((c) => c.result !== 'pass' || verdict === 'promote')
      .map((c) => `${c.name}: ${c.detail}`),
    checks,
    quality,
  });

  if (canary.requests < p.minRequests) {
    checks.push({
      name: 'traffic',
      result: 'inconclusive',
      detail: `canary v${canary.version} answered ${canary.requests} of the ${p.minRequests} requests needed`,
    });
    return decide('wait');
  }
  checks.push({ name: 'traffic', result: 'pass', detail: `${canary.requests} canary requests` });

  const rateC = canary.serverErrors / canary.requests;
  const rateP = prod.requests > 0 ? prod.serverErrors / prod.requests : 0;
  const maxRate = Math.max(rateP + p.errorRateMargin, p.errorRateFloor);
  const errorDetail = `canary error rate ${pct(rateC)} vs production ${pct(rateP)} (limit ${pct(maxRate)})`;
  if (rateC > maxRate) {
    checks.push({ name: 'error-rate', result: 'fail', detail: errorDetail });
    return decide('rollback');
  }
  checks.push({ name: 'error-rate', result: 'pass', detail: errorDetail });

  if (canary.p99Seconds !== null) {
    const limit = Math.min(
      p.p99MaxSeconds,
      prod.p99Seconds !== null ? prod.p99Seconds * p.p99Ratio : Infinity,
    );
    const detail =
      `canary p99 ${(canary.p99Seconds * 1000).toFixed(1)} ms vs production ` +
      `${prod.p99Seconds === null ? 'unknown' : `${(prod.p99Seconds * 1000).toFixed(1)} ms`} (limit ${(limit * 1000).toFixed(1)} ms)`;
    if (canary.p99Seconds > limit) {
      checks.push({ name: 'latency', result: 'fail', detail });
      return decide('rollback');
    }
    checks.push({ name: 'latency', result: 'pass', detail });
  } else {
    checks.push({ name: 'latency', result: 'inconclusive', detail: 'no canary latency yet' });
  }

  const nC = canary.residuals.length;
  const nP = prod.residuals.length;
  if (nC < p.minLabels || nP < p.minLabels) {
    checks.push({
      name: 'labels',
      result: 'inconclusive',
      detail: `${nC} canary and ${nP} production actuals, ${p.minLabels} needed in each`,
    });
    return decide('wait');
  }
  checks.push({
    name: 'labels',
    result: 'pass',
    detail: `${nC} canary and ${nP} production actuals`,
  });

  const maeC = meanAbs(canary.residuals);
  const maeP = meanAbs(prod.residuals);
  const paired =
    input.paired && input.paired.canary.length >= Math.max(3, p.minLabels)
      ? input.paired
      : undefined;
  let pBetter: number;
  let pWorse: number;
  let test: 'diebold-mariano' | 'welch';
  if (paired) {
    pBetter = dieboldMariano(paired.canary, paired.production).pValue;
    pWorse = dieboldMariano(paired.production, paired.canary).pValue;
    test = 'diebold-mariano';
  } else {
    const w = welchTTest(absolute(canary.residuals), absolute(prod.residuals));
    pBetter = w.pLess;
    pWorse = 1 - w.pLess;
    test = 'welch';
  }
  const quality = {
    canaryMae: maeC,
    productionMae: maeP,
    canaryLabels: nC,
    productionLabels: nP,
    pBetter,
    pWorse,
    test,
  };
  const gain = maeP > 0 ? (maeP - maeC) / maeP : maeC === 0 ? 0 : -Infinity;
  const summary =
    `live MAE ${maeC.toFixed(2)} (v${canary.version}, n = ${nC}) vs ${maeP.toFixed(2)} (v${prod.version}, n = ${nP}), ` +
    `${(gain * 100).toFixed(1)}% better (${(p.minImprovement * 100).toFixed(1)}% required), ` +
    `${test === 'welch' ? 'Welch' : 'Diebold-Mariano'} p = ${pBetter.toFixed(3)} better / ${pWorse.toFixed(3)} worse (${p.maxPValue} required)`;
  if (maeC > maeP && pWorse < p.maxPValue) {
    checks.push({ name: 'quality', result: 'fail', detail: `significantly worse: ${summary}` });
    return decide('rollback', quality);
  }
  if (gain >= p.minImprovement && pBetter < p.maxPValue) {
    checks.push({ name: 'quality', result: 'pass', detail: `significantly better: ${summary}` });
    return decide('promote', quality);
  }
  if (nC >= p.maxLabels) {
    checks.push({
      name: 'quality',
      result: 'fail',
      detail: `no significant gain after ${nC} actuals (${p.maxLabels} allowed): ${summary}`,
    });
    return decide('rollback', quality);
  }
  checks.push({ name: 'quality', result: 'inconclusive', detail: `not decided yet: ${summary}` });
  return decide('wait', quality);
}
