import type { Request, Response } from 'express';
import { ForecastInputError, forecast, type FeatureRow, type Prediction } from '../../ml/serving';
import { HttpError } from '../errors';
import type { Metrics } from '../metrics';
import type { Live } from '../live';
import type { Arm } from '../live-store';
import type { ServingModel } from '../model-holder';
import { predictionId } from '../prediction-id';
import { invocationRows } from '../scoring';
import {
  invocationsRequest,
  invocationsResponse,
  issues,
  mlflowError,
  predictBatch,
  predictRequest,
  predictResponse,
  predictRow,
} from '../schemas';
import type { RouteSpec } from './types';

export interface PredictDeps {
  live: Live;
  metrics: Metrics;
  maxBatch: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The JSON body, or a 415 for another content type (express.json() leaves those unparsed). */
function jsonBody(req: Request): unknown {
  if (!req.is('application/json'))
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  return req.body;
}

/** The caller as the traffic split sees it: the principal, else the remote address. */
function clientOf(req: Request, res: Response): string {
  return (res.locals.principal as { id?: string } | undefined)?.id ?? `ip:${req.ip ?? ''}`;
}

function routeOf(live: Live, req: Request, res: Response) {
  const route = live.traffic.route(clientOf(req, res));
  if (!route) throw new HttpError(503, 'not_ready', 'no production model is loaded yet');
  res.locals.arm = route.arm;
  return route;
}

function checkBatch(n: number, max: number): void {
  if (n > max)
    throw new HttpError(413, 'too_many_rows', `a request may hold at most ${max} rows; got ${n}`);
}

/** `features`: each prediction also carries its feature vector (for the drift monitor). */
function predictRows(
  live: Live,
  model: ServingModel,
  rows: FeatureRow[],
  features = false,
): Prediction[] {
  try {
    return forecast(model.forecaster, live.history.historyFor(model), rows, {
      maxHorizon: model.maxHorizon,
      features,
    });
  } catch (err) {
    if (err instanceof ForecastInputError) throw new HttpError(422, 'unprocessable', err.message);
    throw err;
  }
}

/** The drift monitor compares production's features with its training reference, if it has one. */
const wantsFeatures = (arm: Arm, model: ServingModel) =>
  arm === 'production' && model.reference !== undefined;

/** A validated row as the engine takes it (a monthly `YYYY-MM` is the month's first day). */
function toRow(r: {
  date: string;
  temperature: number;
  covariates?: Record<string, number> | undefined;
}): FeatureRow {
  const date = r.date.length === 7 ? `${r.date}-01` : r.date;
  return r.covariates
    ? { date, temperature: r.temperature, covariates: r.covariates }
    : { date, temperature: r.temperature };
}

/** Marks the response for the request log line and the metrics. */
function account(res: Response, deps: PredictDeps, model: ServingModel, arm: Arm, ids: string[]) {
  res.locals.modelVersion = model.version;
  res.locals.predictionIds = ids;
  deps.metrics.predictions.inc({ model_version: model.version, variant: arm }, ids.length);
}

/**
 * Logs each prediction (sync, O(1) per row) and remembers the request's inputs for the live
 * history. Returns the ids.
 */
function log(
  deps: PredictDeps,
  ctx: { client: string; route: string; arm: Arm; model: ServingModel; shadowOf?: string[] },
  rows: FeatureRow[],
  predictions: Prediction[],
  ids: string[] = predictions.map(() => predictionId()),
): string[] {
  const { live } = deps;
  const time = new Date();
  predictions.forEach((p, i) => {
    const row = rows[i]!;
    if (ctx.arm !== 'shadow') live.history.noteInputs(p.date, row);
    if (ctx.arm === 'production')
      live.driftMonitor.observe(
        p.date,
        row.temperature,
        p.prediction,
        p.features,
        ctx.model.forecaster.featureNames,
      );
    live.sink.record({
      id: ids[i]!,
      time,
      client: ctx.client,
      route: ctx.route,
      modelName: ctx.model.name,
      modelVersion: ctx.model.version,
      modelDigest: ctx.model.digest,
      arm: ctx.arm,
      date: p.date,
      horizon: live.history.horizonOf(ctx.model, p.date),
      inputs: row.covariates
        ? { temperature: row.temperature, covariates: row.covariates }
        : { temperature: row.temperature },
      prediction: p.prediction,
      lower: p.lower,
      upper: p.upper,
      shadowOf: ctx.shadowOf?.[i] ?? null,
    });
  });
  return ids;
}

/** Shadow mode: the candidate scores a copy after the response; recorded only. */
function shadow(
  deps: PredictDeps,
  candidate: ServingModel | undefined,
  ctx: { client: string; route: string },
  rows: FeatureRow[],
  servedIds: string[],
): void {
  if (!candidate) return;
  setImmediate(() => {
    const started = process.hrtime.bigint();
    let error = false;
    try {
      const predictions = predictRows(deps.live, candidate, rows);
      log(
        deps,
        { ...ctx, arm: 'shadow', model: candidate, shadowOf: servedIds },
        rows,
        predictions,
      );
      deps.metrics.predictions.inc(
        { model_version: candidate.version, variant: 'shadow' },
        predictions.length,
      );
    } catch {
      error = true;
    }
    deps.live.stats.observe({
      time: Date.now(),
      arm: 'shadow',
      version: candidate.version,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      error,
    });
  });
}

/** `POST /v1/predict` and MLflow's `POST /invocations`. */
export function predictRoutes(deps: PredictDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/predict',
      summary: 'Forecast sales for one row or a batch of rows',
      scope: 'predict',
      body: predictRequest,
      responses: {
        200: {
          description: 'One prediction (or `predictions` for a batch).',
          schema: predictResponse,
        },
        422: { description: 'A date the model cannot forecast (too far ahead, off its grid).' },
        503: { description: 'No model loaded yet.' },
      },
      handler: (req, res) => {
        const body = jsonBody(req);
        const route = routeOf(deps.live, req, res);
        const model = route.model;
        // one schema per shape, so the error names the field rather than "no union member matched"
        const rowsGiven = (body as { rows?: unknown } | null)?.rows;
        const isBatch = typeof body === 'object' && body !== null && 'rows' in body;
        if (Array.isArray(rowsGiven)) checkBatch(rowsGiven.length, deps.maxBatch);
        const parsed = isBatch ? predictBatch.safeParse(body) : predictRow.safeParse(body);
        if (!parsed.success)
          throw new HttpError(
            400,
            'invalid_request',
            'the request body is invalid',
            issues(parsed.error),
          );
        const rows = ('rows' in parsed.data ? parsed.data.rows : [parsed.data]).map(toRow);
        const predictions = predictRows(deps.live, model, rows, wantsFeatures(route.arm, model));
        const ctx = { client: clientOf(req, res), route: '/v1/predict' };
        const ids = log(deps, { ...ctx, arm: route.arm, model }, rows, predictions);
        const coverage = model.forecaster.interval.coverage;
        const out = predictions.map((p, i) => ({
          date: p.date,
          prediction: round2(p.prediction),
          interval: { lower: round2(p.lower), upper: round2(p.upper), coverage },
          model_version: model.version,
          prediction_id: ids[i]!,
        }));
        account(res, deps, model, route.arm, ids);
        res.json(isBatch ? { predictions: out, model_version: model.version } : out[0]);
        shadow(deps, route.shadow, ctx, rows, ids);
      },
    },
    {
      method: 'post',
      path: '/invocations',
      summary: "MLflow's scoring protocol (dataframe_split, dataframe_records, instances, inputs)",
      scope: 'predict',
      body: invocationsRequest,
      responses: {
        200: { description: 'One prediction per row, in order.', schema: invocationsResponse },
        400: { description: "Bad input, in MLflow's error shape.", schema: mlflowError },
        503: { description: 'No model loaded yet.' },
      },
      handler: (req, res) => {
        const body = jsonBody(req);
        const route = routeOf(deps.live, req, res);
        const model = route.model;
        const parsed = invocationsRequest.safeParse(body);
        if (!parsed.success)
          throw new HttpError(
            400,
            'invalid_request',
            'the body must hold exactly one of dataframe_split, dataframe_records, instances or inputs',
            issues(parsed.error),
          );
        const rows = invocationRows(parsed.data, model.forecaster.features.covariates);
        checkBatch(rows.length, deps.maxBatch);
        const featureRows = rows.map(toRow);
        const predictions = predictRows(
          deps.live,
          model,
          featureRows,
          wantsFeatures(route.arm, model),
        );
        const ctx = { client: clientOf(req, res), route: '/invocations' };
        const ids = log(deps, { ...ctx, arm: route.arm, model }, featureRows, predictions);
        account(res, deps, model, route.arm, ids);
        res.json({ predictions: predictions.map((p) => round2(p.prediction)) });
        shadow(deps, route.shadow, ctx, featureRows, ids);
      },
    },
  ];
}
