/**
 * `icecream simulate`: replays a dataset period by period against a running prediction service,
 * the way a shop would use it: forecast the period from its date and temperature, then send the
 * actual sales as feedback. From `degradeAt` on the world changes (warmer weather, fewer sales),
 * so live MAE and drift move on the dashboard. Talks HTTP only; no server or training code.
 */
import type { Series } from '../ml/types';

/** A failed call to the service: which call, which period, and what the service said. */
export class SimulateError extends Error {
  constructor(
    message: string,
    readonly route: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SimulateError';
  }
}

/** How the replayed world changes from `degradeAt` on. */
export interface Degradation {
  /** First period (ISO date, inclusive) that is changed. */
  at: string;
  /** Added to the temperature sent for prediction, deg C (moves the input distribution). */
  temperatureShift: number;
  /** Multiplies the actual sales sent as feedback (the model's error grows). */
  salesFactor: number;
}

export interface SimulateOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Bearer credential with scopes `predict` and `feedback` (and `metrics` for the summary). */
  key?: string;
  /** The dataset to replay (dates, temperature, actual sales, covariates). */
  series: Series;
  /** First period to replay; default: after the model's history, else the last `periods` rows. */
  from?: string;
  /** Periods to replay at most (default 24). */
  periods?: number;
  /** Periods per second; `Infinity` for as fast as the service answers. */
  speed: number;
  degrade?: Degradation;
  /** Called after each period. */
  onPeriod?: (p: PeriodResult, done: number, total: number) => void;
  signal?: AbortSignal;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface PeriodResult {
  date: string;
  temperature: number;
  prediction: number;
  actual: number;
  modelVersion: string;
  predictionId: string;
  degraded: boolean;
  /** Running mean absolute error of the replay so far. */
  mae: number;
}

/** Live quality per version as `GET /v1/monitoring` reported it at the end. */
export interface ServiceView {
  version: string;
  arm: string;
  window: string;
  n: number;
  mae: number | null;
}

export interface SimulateSummary {
  periods: number;
  from: string | null;
  to: string | null;
  degradedPeriods: number;
  /** MAE of the replay computed by the client (before / from the degradation). */
  mae: { all: number | null; beforeDegrade: number | null; afterDegrade: number | null };
  feedback: { accepted: number; corrected: number; duplicates: number };
  /** What the service's own monitoring says; null when the service has no /v1/monitoring. */
  service: ServiceView[] | null;
  modelVersions: string[];
}

interface ModelView {
  version: string;
  frequency: string;
  feature_spec: { covariates?: string[] };
  history: { first_date: string; last_date: string };
}

/** Default number of periods: the default pipeline's untouched holdout (params.yaml split.holdout). */
export const DEFAULT_PERIODS = 24;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

const round2 = (x: number) => Math.round(x * 100) / 100;

/** A small JSON client that turns every non-2xx answer into a SimulateError naming the call. */
function client(o: SimulateOptions) {
  const doFetch = o.fetch ?? fetch;
  const base = o.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  return async <T>(
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
    what = route,
  ): Promise<{ status: number; body: T }> => {
    let res: Response;
    try {
      res = await doFetch(`${base}${route}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw new SimulateError(
        `cannot reach the service at ${base} (${method} ${route}): ${(err as Error).message}`,
        route,
        undefined,
        { cause: err },
      );
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const said = e?.message ? `${e.code ?? 'error'}: ${e.message}` : text.slice(0, 200);
      const hint =
        res.status === 401 || res.status === 403
          ? ' (pass --key with a key that has the predict and feedback scopes)'
          : '';
      throw new SimulateError(
        `${what} failed with HTTP ${res.status}: ${said}${hint}`,
        route,
        res.status,
      );
    }
    return { status: res.status, body: parsed as T };
  };
}

/** Index of the first row to replay. */
function startIndex(series: Series, model: ModelView, from: string | undefined, n: number): number {
  const dates = series.dates;
  if (from !== undefined) {
    const day = from.length === 7 ? `${from}-01` : from;
    const i = dates.findIndex((d) => d >= day);
    if (i < 0)
      throw new SimulateError(
        `--from ${from} is after the last period of the data (${dates[dates.length - 1]})`,
        '/v1/model',
      );
    return i;
  }
  const after = dates.findIndex((d) => d > model.history.last_date);
  return after >= 0 ? after : Math.max(0, dates.length - n);
}

/**
 * Replays `series` against the service: for each period, `POST /v1/predict` then
 * `POST /v1/feedback` with the actual; paced at `speed` periods per second.
 * Throws SimulateError on the first refused call (naming the period and the service's reason);
 * retrying helps only when the service was unreachable.
 */
export async function simulate(o: SimulateOptions): Promise<SimulateSummary> {
  if (!(o.speed > 0)) throw new SimulateError('speed must be a positive number', '');
  const call = client(o);
  const model = (await call<ModelView>('GET', '/v1/model', undefined, 'reading the model')).body;
  const s = o.series;
  if (model.frequency !== s.frequency)
    throw new SimulateError(
      `the data is ${s.frequency} but the served model is ${model.frequency}`,
      '/v1/model',
    );
  const wanted = o.periods ?? DEFAULT_PERIODS;
  const first = startIndex(s, model, o.from, wanted);
  const last = Math.min(s.dates.length, first + wanted);
  const covariates = model.feature_spec.covariates ?? [];
  for (const c of covariates)
    if (!s.covariates[c])
      throw new SimulateError(`the served model needs covariate "${c}", not in the data`, '');
  const monthly = s.frequency === 'monthly';

  const errors: { abs: number; degraded: boolean }[] = [];
  const feedback = { accepted: 0, corrected: 0, duplicates: 0 };
  const versions = new Set<string>();
  const started = Date.now();
  const total = last - first;
  for (let i = first; i < last; i++) {
    const k = i - first;
    const wait = started + (k * 1000) / o.speed - Date.now();
    if (wait > 0 && Number.isFinite(o.speed)) await sleep(wait, o.signal);
    const day = s.dates[i]!;
    const date = monthly ? day.slice(0, 7) : day;
    const degraded = o.degrade !== undefined && day >= o.degrade.at;
    const temperature = round2(s.temperature[i]! + (degraded ? o.degrade!.temperatureShift : 0));
    const actual = round2(s.target[i]! * (degraded ? o.degrade!.salesFactor : 1));
    const row: { date: string; temperature: number; covariates?: Record<string, number> } = {
      date,
      temperature,
    };
    if (covariates.length)
      row.covariates = Object.fromEntries(covariates.map((c) => [c, s.covariates[c]![i]!]));
    const p = (
      await call<{ prediction: number; prediction_id: string; model_version: string }>(
        'POST',
        '/v1/predict',
        row,
        `predicting ${date}`,
      )
    ).body;
    const fb = (
      await call<{ accepted?: number; corrected?: number; duplicates?: number }>(
        'POST',
        '/v1/feedback',
        { prediction_id: p.prediction_id, actual },
        `sending the actual for ${date}`,
      )
    ).body;
    feedback.accepted += fb?.accepted ?? 0;
    feedback.corrected += fb?.corrected ?? 0;
    feedback.duplicates += fb?.duplicates ?? 0;
    versions.add(p.model_version);
    errors.push({ abs: Math.abs(p.prediction - actual), degraded });
    o.onPeriod?.(
      {
        date,
        temperature,
        prediction: p.prediction,
        actual,
        modelVersion: p.model_version,
        predictionId: p.prediction_id,
        degraded,
        mae: errors.reduce((a, e) => a + e.abs, 0) / errors.length,
      },
      k + 1,
      total,
    );
  }

  const mean = (xs: number[]) =>
    xs.length ? round2(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
  return {
    periods: total,
    from: total ? s.dates[first]! : null,
    to: total ? s.dates[last - 1]! : null,
    degradedPeriods: errors.filter((e) => e.degraded).length,
    mae: {
      all: mean(errors.map((e) => e.abs)),
      beforeDegrade: mean(errors.filter((e) => !e.degraded).map((e) => e.abs)),
      afterDegrade: mean(errors.filter((e) => e.degraded).map((e) => e.abs)),
    },
    feedback,
    service: await serviceView(call),
    modelVersions: [...versions],
  };
}

interface MonitoringVersions {
  versions?: {
    version: string;
    arm: string;
    live?: { window: string; n: number; mae: number | null }[];
  }[];
}

/** Live MAE per version from `GET /v1/monitoring`, or null when the service has none. */
async function serviceView(call: ReturnType<typeof client>): Promise<ServiceView[] | null> {
  try {
    const m = (await call<MonitoringVersions>('GET', '/v1/monitoring')).body;
    return (m.versions ?? []).flatMap((v) =>
      (v.live ?? []).map((l) => ({
        version: v.version,
        arm: v.arm,
        window: l.window,
        n: l.n,
        mae: l.mae,
      })),
    );
  } catch (err) {
    if (err instanceof SimulateError && err.status !== undefined) return null;
    throw err;
  }
}
