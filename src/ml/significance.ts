/**
 * Diebold-Mariano test of equal predictive accuracy (Diebold & Mariano 1995) with the small-sample
 * correction of Harvey, Leybourne & Newbold (1997), on paired forecast errors of two models over
 * the same rows. Pure maths, no I/O.
 */

/** Result of comparing model A (the challenger) with model B (the champion). */
export interface DieboldMarianoResult {
  /** HLN-corrected statistic; negative when A has the lower loss */
  statistic: number;
  /** one-sided p-value of "A is not more accurate than B" (small = A is really better) */
  pValue: number;
  /** mean loss differential loss(A) - loss(B) */
  meanDifference: number;
  n: number;
  horizon: number;
  loss: 'absolute' | 'squared';
}

/**
 * Tests whether forecast errors `errorsA` are smaller than `errorsB` (same rows, same order).
 * Loss is |e| (default) or e^2; the long-run variance of the loss differential uses the
 * autocovariances up to lag horizon - 1 (rectangular window, as in the original paper), and the
 * statistic is compared with Student's t with n - 1 degrees of freedom.
 * Identical errors give statistic 0 and p-value 0.5.
 * @throws RangeError when the arrays differ in length, have fewer than 3 rows or hold non-finite values.
 */
export function dieboldMariano(
  errorsA: ArrayLike<number>,
  errorsB: ArrayLike<number>,
  options: { horizon?: number; loss?: 'absolute' | 'squared' } = {},
): DieboldMarianoResult {
  const n = errorsA.length;
  const h = options.horizon ?? 1;
  const loss = options.loss ?? 'absolute';
  if (errorsB.length !== n)
    throw new RangeError(`dieboldMariano: ${n} errors for A but ${errorsB.length} for B`);
  if (n < 3) throw new RangeError(`dieboldMariano: needs at least 3 paired errors, got ${n}`);
  if (!Number.isInteger(h) || h < 1 || h >= n)
    throw new RangeError(`dieboldMariano: horizon must be an integer in [1, ${n - 1}], got ${h}`);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = errorsA[i]!;
    const b = errorsB[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b))
      throw new RangeError(`dieboldMariano: non-finite error at row ${i}`);
    d[i] = loss === 'absolute' ? Math.abs(a) - Math.abs(b) : a * a - b * b;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d[i]!;
  mean /= n;
  const autocov = (k: number): number => {
    let s = 0;
    for (let i = k; i < n; i++) s += (d[i]! - mean) * (d[i - k]! - mean);
    return s / n;
  };
  let longRunVariance = autocov(0);
  for (let k = 1; k < h; k++) longRunVariance += 2 * autocov(k);
  if (!(longRunVariance > 0)) {
    // every difference equal: no evidence either way unless they differ by a constant
    const statistic = mean === 0 ? 0 : mean < 0 ? -Infinity : Infinity;
    return {
      statistic,
      pValue: mean === 0 ? 0.5 : mean < 0 ? 0 : 1,
      meanDifference: mean,
      n,
      horizon: h,
      loss,
    };
  }
  const dm = mean / Math.sqrt(longRunVariance / n);
  const correction = Math.sqrt((n + 1 - 2 * h + (h * (h - 1)) / n) / n);
  const statistic = dm * correction;
  return {
    statistic,
    pValue: studentTCdf(statistic, n - 1),
    meanDifference: mean,
    n,
    horizon: h,
    loss,
  };
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** I_x(a, b) by the continued fraction of Numerical Recipes (Lentz's method). */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  if (x > (a + 1) / (a + b + 2)) return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
  return (front * betaContinuedFraction(x, a, b)) / a;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return f;
}

/** ln Γ(z) by the Lanczos approximation (g = 7, 9 terms), accurate to ~1e-15 for z > 0. */
function logGamma(z: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
