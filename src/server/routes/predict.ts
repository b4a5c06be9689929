import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { ForecastInputError, forecast, type FeatureRow, type Prediction } from '../../ml/serving';
import { HttpError } from '../errors';
import type { Metrics } from '../metrics';
import type { ModelHolder, ServingModel } from '../model-holder';
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
  models: ModelHolder;
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

function servingModel(models: ModelHolder): ServingModel {
  const model = models.current;
  if (!model) throw new HttpError(503, 'not_ready', 'no production model is loaded yet');
  return model;
}

function checkBatch(n: number, max: number): void {
  if (n > max)
    throw new HttpError(413, 'too_many_rows', `a request may hold at most ${max} rows; got ${n}`);
}

function predictRows(model: ServingModel, rows: FeatureRow[]): Prediction[] {
  try {
    return forecast(model.forecaster, model.history, rows, { maxHorizon: model.maxHorizon });
  } catch (err) {
    if (err instanceof ForecastInputError) throw new HttpError(422, 'unprocessable', err.message);
    throw err;
  }
}

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
function account(res: Response, deps: PredictDeps, model: ServingModel, ids: string[] | number) {
  res.locals.modelVersion = model.version;
  if (typeof ids !== 'number') res.locals.predictionIds = ids;
  deps.metrics.predictions.inc(
    { model_version: model.version, variant: 'production' },
    typeof ids === 'number' ? ids : ids.length,
  );
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
        const model = servingModel(deps.models);
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
        const rows = 'rows' in parsed.data ? parsed.data.rows : [parsed.data];
        const predictions = predictRows(model, rows.map(toRow));
        const coverage = model.forecaster.interval.coverage;
        const out = predictions.map((p) => ({
          date: p.date,
          prediction: round2(p.prediction),
          interval: { lower: round2(p.lower), upper: round2(p.upper), coverage },
          model_version: model.version,
          prediction_id: randomUUID(),
        }));
        account(
          res,
          deps,
          model,
          out.map((p) => p.prediction_id),
        );
        res.json(isBatch ? { predictions: out, model_version: model.version } : out[0]);
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
        const model = servingModel(deps.models);
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
        const predictions = predictRows(model, rows.map(toRow));
        account(res, deps, model, predictions.length);
        res.json({ predictions: predictions.map((p) => round2(p.prediction)) });
      },
    },
  ];
}
