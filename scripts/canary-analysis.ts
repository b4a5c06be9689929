/**
 * Canary analysis for an image release (.github/workflows/release.yml): queries Prometheus's
 * HTTP API every interval over a window, compares the canary pods (`track="canary"`) with the
 * stable ones on error ratio, p99 latency and live MAE, and decides promote or rollback.
 * Model releases do not come here: the service canaries a new model version itself.
 *
 *   npx tsc -p scripts/tsconfig.json && node dist/scripts/canary-analysis.js \
 *     --prometheus-url http://prometheus.monitoring:9090 --window 600 --interval 60
 *
 * Prints one JSON line per step and a final one; exit code 0 = promote, 1 = roll back,
 * 2 = bad arguments.
 */
import { parseArgs } from 'node:util';

/** The gates, after the canary rules in /work/shared/reference/serving.md (Flagger, Argo Rollouts). */
export interface Thresholds {
  /** Canary 5xx ratio must stay <= max(stable + this, maxErrorRatio). */
  errorRatioMargin: number;
  maxErrorRatio: number;
  /** Canary p99 (seconds) must stay <= this SLO... */
  p99SloSeconds: number;
  /** ...and <= stable p99 x this, unless the difference is below minP99DeltaSeconds (noise). */
  p99RatioToStable: number;
  minP99DeltaSeconds: number;
  /** Live MAE / holdout MAE of the served model must stay <= this (labels permitting). */
  maxLiveMaeRatio: number;
  /** Fewer canary requests than this in a step: too little traffic to judge that step. */
  minRequests: number;
}

export const defaultThresholds: Thresholds = {
  errorRatioMargin: 0.01,
  maxErrorRatio: 0.01,
  p99SloSeconds: 0.25,
  p99RatioToStable: 1.2,
  minP99DeltaSeconds: 0.005,
  maxLiveMaeRatio: 1.5,
  minRequests: 20,
};

/** One step's measurements; undefined = Prometheus had no data for it. */
export interface Sample {
  canaryRequests: number | undefined;
  canaryErrorRatio: number | undefined;
  stableErrorRatio: number | undefined;
  canaryP99: number | undefined;
  stableP99: number | undefined;
  liveMaeRatio: number | undefined;
}

export type StepVerdict = 'pass' | 'fail' | 'inconclusive';
export interface StepResult {
  verdict: StepVerdict;
  reasons: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (x: number) => `${(x * 1000).toFixed(1)}ms`;

/** Judges one step. Pure: the rules live here, the I/O in {@link analyse}. */
export function judgeStep(s: Sample, t: Thresholds = defaultThresholds): StepResult {
  if (s.canaryRequests === undefined || s.canaryRequests < t.minRequests)
    return {
      verdict: 'inconclusive',
      reasons: [`canary served ${Math.round(s.canaryRequests ?? 0)} requests (< ${t.minRequests})`],
    };
  const failures: string[] = [];
  const passes: string[] = [];
  const errorLimit = Math.max((s.stableErrorRatio ?? 0) + t.errorRatioMargin, t.maxErrorRatio);
  const errors = s.canaryErrorRatio ?? 0;
  (errors > errorLimit ? failures : passes).push(
    `error ratio ${pct(errors)} (limit ${pct(errorLimit)})`,
  );
  if (s.canaryP99 !== undefined) {
    const overSlo = s.canaryP99 > t.p99SloSeconds;
    const overStable =
      s.stableP99 !== undefined &&
      s.canaryP99 > s.stableP99 * t.p99RatioToStable &&
      s.canaryP99 - s.stableP99 > t.minP99DeltaSeconds;
    const stable = s.stableP99 === undefined ? 'no stable data' : `stable ${ms(s.stableP99)}`;
    (overSlo || overStable ? failures : passes).push(
      `p99 ${ms(s.canaryP99)} (${stable}, SLO ${ms(t.p99SloSeconds)})`,
    );
  }
  // labels arrive late: no live MAE yet is not a reason to roll back
  if (s.liveMaeRatio !== undefined)
    (s.liveMaeRatio > t.maxLiveMaeRatio ? failures : passes).push(
      `live MAE ${s.liveMaeRatio.toFixed(2)}x holdout (limit ${t.maxLiveMaeRatio}x)`,
    );
  return failures.length > 0
    ? { verdict: 'fail', reasons: failures }
    : { verdict: 'pass', reasons: passes };
}

export interface Decision {
  decision: 'promote' | 'rollback';
  reason: string;
}

/**
 * The decision over a window: roll back after more than `failureLimit` failed steps, or when
 * fewer than half the steps had enough traffic to judge (no evidence is no promotion);
 * otherwise promote.
 */
export function decide(steps: readonly StepVerdict[], failureLimit: number): Decision {
  const failed = steps.filter((v) => v === 'fail').length;
  const judged = steps.filter((v) => v !== 'inconclusive').length;
  if (failed > failureLimit)
    return { decision: 'rollback', reason: `${failed} of ${steps.length} steps failed` };
  if (judged * 2 < steps.length)
    return {
      decision: 'rollback',
      reason: `only ${judged} of ${steps.length} steps had enough canary traffic to judge`,
    };
  return { decision: 'promote', reason: `${judged} of ${steps.length} steps passed` };
}

/** PromQL for one step, over the last `range` (e.g. "1m"); probes and scrapes do not count. */
export function queries(range: string, job = 'api'): Record<keyof Sample, string> {
  const sel = (track: string, extra = '') =>
    `{job="${job}",track="${track}",route!~"/healthz|/readyz|/metrics"${extra}}`;
  const errorRatio = (track: string) =>
    `(sum(rate(http_request_duration_seconds_count${sel(track, ',status=~"5.."')}[${range}])) or vector(0))` +
    ` / sum(rate(http_request_duration_seconds_count${sel(track)}[${range}]))`;
  const p99 = (track: string) =>
    `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket${sel(track)}[${range}])))`;
  return {
    canaryRequests: `sum(increase(http_request_duration_seconds_count${sel('canary')}[${range}]))`,
    canaryErrorRatio: errorRatio('canary'),
    stableErrorRatio: errorRatio('stable'),
    canaryP99: p99('canary'),
    stableP99: p99('stable'),
    liveMaeRatio:
      `max(min by (model_version) (icecream_live_mae{job="${job}"})` +
      ` / on (model_version) max by (model_version) (icecream_holdout_mae{job="${job}"}))`,
  };
}

/** Prometheus answered with an error, or not at all. */
export class PrometheusQueryError extends Error {
  constructor(
    readonly query: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Prometheus query failed: ${message} (query: ${query})`, options);
    this.name = 'PrometheusQueryError';
  }
}

export type Fetch = (
  url: string,
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/**
 * One instant query; the value of a single-element vector or scalar, or undefined when the result
 * is empty or not a number (NaN: e.g. no traffic in the range).
 * @throws PrometheusQueryError on a network error, an HTTP error or `status: "error"`.
 */
export async function queryValue(
  prometheusUrl: string,
  query: string,
  fetchImpl: Fetch,
): Promise<number | undefined> {
  const url = `${prometheusUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  let body: {
    status?: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  try {
    const res = await fetchImpl(url);
    body = (await res.json()) as typeof body;
    if (!res.ok && body.status !== 'error') throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new PrometheusQueryError(query, (e as Error).message, { cause: e });
  }
  if (body.status !== 'success') throw new PrometheusQueryError(query, body.error ?? 'no data');
  const { resultType, result } = body.data!;
  let raw: string | undefined;
  if (resultType === 'scalar') raw = (result as [number, string])[1];
  else if (resultType === 'vector') {
    const vector = result as { value: [number, string] }[];
    if (vector.length > 1)
      throw new PrometheusQueryError(query, `expected one series, got ${vector.length}`);
    raw = vector[0]?.value[1];
  } else throw new PrometheusQueryError(query, `unexpected result type ${resultType}`);
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

export interface AnalysisOptions {
  prometheusUrl: string;
  /** Length of the analysis and of each step, in seconds. */
  windowSeconds: number;
  intervalSeconds: number;
  thresholds?: Thresholds;
  failureLimit?: number;
  job?: string;
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: object) => void;
}

/** Samples every interval over the window, judging each step; rolls back as soon as it must. */
export async function analyse(o: AnalysisOptions): Promise<Decision> {
  const fetchImpl: Fetch = o.fetch ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = o.log ?? ((line: object) => console.log(JSON.stringify(line)));
  const failureLimit = o.failureLimit ?? 1;
  const steps = Math.max(1, Math.floor(o.windowSeconds / o.intervalSeconds));
  const q = queries(`${o.intervalSeconds}s`, o.job);
  const verdicts: StepVerdict[] = [];
  let errorsInARow = 0;
  for (let step = 1; step <= steps; step += 1) {
    await sleep(o.intervalSeconds * 1000);
    let result: StepResult;
    try {
      const entries = await Promise.all(
        Object.entries(q).map(
          async ([k, query]) => [k, await queryValue(o.prometheusUrl, query, fetchImpl)] as const,
        ),
      );
      result = judgeStep(Object.fromEntries(entries) as unknown as Sample, o.thresholds);
      errorsInARow = 0;
    } catch (e) {
      errorsInARow += 1;
      result = { verdict: 'inconclusive', reasons: [(e as Error).message] };
      if (errorsInARow >= 4) {
        const decision: Decision = {
          decision: 'rollback',
          reason: `Prometheus failed ${errorsInARow} times in a row`,
        };
        log({ step, ...result, ...decision });
        return decision;
      }
    }
    verdicts.push(result.verdict);
    log({ step, of: steps, ...result });
    if (verdicts.filter((v) => v === 'fail').length > failureLimit) break;
  }
  const decision = decide(verdicts, failureLimit);
  log(decision);
  return decision;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'prometheus-url': { type: 'string' },
        window: { type: 'string', default: '600' },
        interval: { type: 'string', default: '60' },
        'failure-limit': { type: 'string', default: '1' },
        job: { type: 'string', default: 'api' },
      },
    }));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const windowSeconds = Number(values.window);
  const intervalSeconds = Number(values.interval);
  const failureLimit = Number(values['failure-limit']);
  const url = values['prometheus-url'];
  const problems = [
    !url || !/^https?:\/\//.test(url) ? '--prometheus-url must be an http(s) URL' : '',
    !(windowSeconds > 0) ? '--window must be a positive number of seconds' : '',
    !(intervalSeconds > 0 && intervalSeconds <= windowSeconds)
      ? '--interval must be positive seconds, at most --window'
      : '',
    !(Number.isInteger(failureLimit) && failureLimit >= 0)
      ? '--failure-limit must be a whole number >= 0'
      : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    return 2;
  }
  const { decision } = await analyse({
    prometheusUrl: url!,
    windowSeconds,
    intervalSeconds,
    failureLimit,
    job: values.job,
  });
  return decision === 'promote' ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
