/**
 * The API's request and response shapes: validation at run time and the OpenAPI document
 * (`GET /openapi.json`) both come from these zod schemas.
 */
import { z } from 'zod';

const calendarDate = (s: string): boolean => {
  const [y, m, d = 1] = s.split('-').map(Number) as [number, number, number?];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
};

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be YYYY-MM-DD (or YYYY-MM for monthly models)')
  .refine(calendarDate, 'is not a calendar date')
  .meta({ description: 'The period to forecast: YYYY-MM-DD, or YYYY-MM for a monthly model.' });

export const predictRow = z
  .object({
    date: isoDate,
    temperature: z
      .number()
      .finite()
      .min(-60)
      .max(60)
      .meta({ description: 'Forecast mean temperature of the period, deg C.' }),
    covariates: z
      .record(z.string(), z.number().finite())
      .optional()
      .meta({ description: 'Known values of the optional covariates the model uses.' }),
  })
  .strict()
  .meta({ id: 'PredictRow' });

export const predictBatch = z
  .object({ rows: z.array(predictRow).min(1) })
  .strict()
  .meta({ id: 'PredictBatch' });

export const predictRequest = z.union([predictRow, predictBatch]).meta({ id: 'PredictRequest' });

export const prediction = z
  .object({
    date: z.string(),
    prediction: z.number().meta({ description: 'Expected sales, rounded to 2 decimals.' }),
    interval: z.object({
      lower: z.number(),
      upper: z.number(),
      coverage: z.number().meta({ description: 'Nominal coverage, e.g. 0.9.' }),
    }),
    model_version: z.string(),
    prediction_id: z.uuid().meta({ description: 'Send it back with the actual sales.' }),
  })
  .meta({ id: 'Prediction' });

export const predictResponse = z
  .union([prediction, z.object({ predictions: z.array(prediction), model_version: z.string() })])
  .meta({ id: 'PredictResponse' });

const column = z.union([z.string(), z.number(), z.null()]);
/** MLflow's scoring protocol (`mlflow models serve`): exactly one of the four input keys. */
export const invocationsRequest = z
  .union([
    z
      .object({
        dataframe_split: z.object({
          columns: z.array(z.string()),
          data: z.array(z.array(column)),
          index: z.array(z.unknown()).optional(),
        }),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    z
      .object({
        dataframe_records: z.array(z.record(z.string(), column)),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    z
      .object({
        instances: z.union([
          z.array(z.record(z.string(), column)),
          z.record(z.string(), z.array(column)),
        ]),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    z
      .object({
        inputs: z.union([
          z.array(z.record(z.string(), column)),
          z.record(z.string(), z.array(column)),
        ]),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  ])
  .meta({
    id: 'InvocationsRequest',
    description:
      'Columns `date` (YYYY-MM-DD, YYYY-MM, a midnight ISO timestamp or epoch milliseconds) and `temperature`, plus the model covariates.',
  });

export const invocationsResponse = z
  .object({ predictions: z.array(z.number()) })
  .meta({ id: 'InvocationsResponse' });

export const mlflowError = z
  .object({ error_code: z.string(), message: z.string() })
  .meta({ id: 'MlflowError' });

export const errorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      request_id: z.string(),
    }),
  })
  .meta({ id: 'Error' });

export const modelInfo = z
  .object({
    name: z.string(),
    version: z.string(),
    digest: z.string().meta({ description: 'sha256 of the bundle, as recorded in the registry.' }),
    aliases: z.array(z.string()),
    run_id: z.string().nullable(),
    loaded_at: z.string(),
    family: z.string(),
    frequency: z.enum(['daily', 'weekly', 'monthly']),
    features: z.array(z.string()),
    feature_spec: z.unknown(),
    history: z.object({ first_date: z.string(), last_date: z.string(), rows: z.number() }),
    horizon: z.object({
      periods: z.number().meta({ description: 'How many periods past the history it forecasts.' }),
      last_date: z.string().meta({ description: 'The furthest date it will forecast.' }),
    }),
    interval_coverage: z.number(),
    interval: z.object({
      coverage: z.number(),
      method: z.string().meta({ description: 'How the interval was calibrated.' }),
      half_width: z
        .number()
        .meta({ description: 'prediction +/- this, one period after the last known date.' }),
      half_width_by_horizon: z.array(z.number()).nullable().meta({
        description:
          'Half-width for a date h periods after the last known date at index h - 1 (non-decreasing, calibrated on backtests); null for a model with one width for every horizon.',
      }),
    }),
  })
  .meta({ id: 'ModelInfo' });

export const health = z.object({ status: z.string(), pid: z.number() }).meta({ id: 'Health' });
export const readiness = z
  .object({
    status: z.enum(['ready', 'not ready', 'draining']),
    reason: z.string().optional(),
    model: z.object({ name: z.string(), version: z.string(), loaded_at: z.string() }).optional(),
  })
  .meta({ id: 'Readiness' });

/** The first problems of a failed parse, as `{field, message}`. */
export function issues(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.slice(0, 20).map((i) => ({
    field: i.path.join('.') || '(body)',
    message: i.message,
  }));
}

const actual = z
  .number()
  .finite()
  .min(0)
  .meta({ description: 'The actual sales of the period (>= 0).' });

export const feedbackItem = z
  .union([
    z.object({ prediction_id: z.uuid(), actual }).strict(),
    z.object({ date: isoDate, actual }).strict(),
  ])
  .meta({
    id: 'FeedbackItem',
    description:
      'The actual sales of a prediction (by its `prediction_id`) or of a period (by `date`).',
  });

export const feedbackBatch = z
  .object({ items: z.array(feedbackItem).min(1) })
  .strict()
  .meta({ id: 'FeedbackBatch' });

export const feedbackRequest = z
  .union([feedbackItem, feedbackBatch])
  .meta({ id: 'FeedbackRequest' });

export const feedbackResponse = z
  .object({
    accepted: z.number().meta({ description: 'New actuals stored (or buffered).' }),
    corrected: z.number().meta({ description: 'Actuals that replaced a different earlier value.' }),
    duplicates: z.number().meta({ description: 'The same value again: nothing changed.' }),
  })
  .meta({ id: 'FeedbackResponse' });

export const trafficRequest = z
  .object({
    mode: z.enum(['off', 'canary', 'shadow']),
    canary_share: z.number().min(0).max(1).optional(),
    reason: z.string().min(1).max(500).optional(),
  })
  .strict()
  .meta({ id: 'TrafficRequest' });

export const trafficResponse = z
  .object({
    mode: z.enum(['off', 'canary', 'shadow']),
    canary_share: z.number(),
    production_version: z.string().nullable(),
    canary_version: z.string().nullable(),
  })
  .meta({ id: 'Traffic' });

export const promoteRequest = z
  .object({
    version: z.string().regex(/^\d+$/, 'must be a version number'),
    reason: z.string().min(1).max(2000),
  })
  .strict()
  .meta({ id: 'PromoteRequest' });

export const rollbackRequest = z
  .object({
    to: z.string().regex(/^\d+$/, 'must be a version number').optional(),
    reason: z.string().min(1).max(2000),
  })
  .strict()
  .meta({ id: 'RollbackRequest' });

const auditEntry = z.object({
  at: z.string(),
  by: z.string(),
  action: z.string(),
  alias: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string(),
});

export const adminResponse = z
  .object({ audit: auditEntry.nullable(), production_version: z.string().nullable() })
  .meta({ id: 'AdminResult' });

export const monitoringResponse = z
  .object({
    generated_at: z.string(),
    traffic: trafficResponse,
    versions: z.array(
      z.object({
        version: z.string(),
        arm: z.enum(['production', 'canary', 'shadow']),
        holdout_mae: z.number().nullable(),
        live: z.array(
          z.object({
            window: z.string(),
            n: z.number(),
            mae: z.number().nullable(),
            rmse: z.number().nullable(),
            coverage: z.number().nullable(),
          }),
        ),
      }),
    ),
    drift: z.object({
      checked_at: z.string().nullable(),
      features: z.array(
        z.object({
          feature: z.string(),
          statistic: z.string(),
          value: z.number(),
          p_value: z.number().nullable(),
          psi: z.number(),
          drifted: z.boolean(),
        }),
      ),
    }),
    canary_analysis: z
      .object({
        at: z.string(),
        decision: z.enum(['promote', 'rollback', 'wait']),
        reasons: z.array(z.string()),
      })
      .nullable(),
    audit: z.array(auditEntry),
    requests: z.object({
      rate_per_s: z.number(),
      p99_ms: z.number().meta({ description: '0 without requests in the last minute.' }),
      error_ratio: z.number(),
    }),
    process: z.object({ pid: z.number(), decides: z.boolean() }).meta({
      description:
        'The API process that answered, and whether it is the one that decides (canary actions, retraining on alarms).',
    }),
  })
  .meta({ id: 'Monitoring' });
