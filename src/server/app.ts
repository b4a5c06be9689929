import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { z } from 'zod';
import { ForecastInputError, forecast, type FeatureRow } from '../ml';
import type { Logger } from '../logger';
import type { ModelHolder } from './model-holder';

export interface AppDeps {
  models: ModelHolder;
  log: Logger;
}

/** A request that is well-formed JSON but cannot be answered as asked. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be YYYY-MM-DD (or YYYY-MM for monthly models)');
const row = z
  .object({
    date: isoDate,
    temperature: z.number().finite().min(-60).max(60),
    covariates: z.record(z.string(), z.number().finite()).optional(),
  })
  .strict();
const batch = z.object({ rows: z.array(row).min(1).max(1000) }).strict();

function toRow(r: z.infer<typeof row>): FeatureRow {
  const date = r.date.length === 7 ? `${r.date}-01` : r.date;
  return r.covariates
    ? { date, temperature: r.temperature, covariates: r.covariates }
    : { date, temperature: r.temperature };
}

/** The prediction API without listen(): tests mount it on an ephemeral port. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  const requestLog: RequestHandler = (req, res, next) => {
    const requestId = req.header('x-request-id') ?? randomUUID();
    const started = process.hrtime.bigint();
    res.locals.requestId = requestId;
    res.locals.log = deps.log.child({ requestId });
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      (res.locals.log as Logger).info(
        { method: req.method, path: req.path, status: res.statusCode, ms },
        'request',
      );
    });
    next();
  };
  app.use(requestLog);
  app.use(express.json({ limit: '1mb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    const model = deps.models.current;
    if (!model) {
      res.status(503).json({
        status: 'not ready',
        reason: deps.models.lastError ?? 'no production model loaded yet',
      });
      return;
    }
    res.json({
      status: 'ready',
      model: { name: model.name, version: model.version, loaded_at: model.loadedAt },
    });
  });

  app.post('/v1/predict', (req, res) => {
    const model = deps.models.current;
    if (!model) throw new HttpError(503, 'not_ready', 'no production model is loaded yet');
    // one schema per shape, so the error names the field rather than "no union member matched"
    const isBatch = typeof req.body === 'object' && req.body !== null && 'rows' in req.body;
    const parsed = isBatch ? batch.safeParse(req.body) : row.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(
        400,
        'invalid_request',
        'the request body is invalid',
        parsed.error.issues.map((i) => ({
          field: i.path.join('.') || '(body)',
          message: i.message,
        })),
      );
    }
    const rows = 'rows' in parsed.data ? parsed.data.rows.map(toRow) : [toRow(parsed.data)];
    let predictions;
    try {
      predictions = forecast(model.forecaster, model.history, rows);
    } catch (err) {
      if (err instanceof ForecastInputError) throw new HttpError(422, 'unprocessable', err.message);
      throw err;
    }
    const out = predictions.map((p) => ({
      date: p.date,
      prediction: p.prediction,
      interval: { lower: p.lower, upper: p.upper, coverage: model.forecaster.interval.coverage },
      model_version: model.version,
      prediction_id: randomUUID(),
    }));
    res.json('rows' in parsed.data ? { predictions: out, model_version: model.version } : out[0]);
  });

  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));

  // The one error handler: known errors -> their 4xx, anything else -> a logged 500, no stack trace.
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const e = err as { status?: number; type?: string; message?: string };
    let http: HttpError;
    if (err instanceof HttpError) http = err;
    else if (e.type === 'entity.parse.failed')
      http = new HttpError(400, 'invalid_json', `the body is not valid JSON: ${e.message ?? ''}`);
    else if (e.type === 'entity.too.large')
      http = new HttpError(413, 'too_large', 'the body is larger than 1 MB');
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      http = new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
    else {
      ((res.locals.log as Logger | undefined) ?? deps.log).error({ err }, 'unhandled error');
      http = new HttpError(500, 'internal', 'internal error');
    }
    res.status(http.status).json({
      error: {
        code: http.code,
        message: http.message,
        ...(http.details ? { details: http.details } : {}),
        request_id: res.locals.requestId as string,
      },
    });
  };
  app.use(onError);
  return app;
}
