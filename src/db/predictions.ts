import type pg from 'pg';

/** Which model answered: the served production model, the canary, or a shadow that only records. */
export const arms = ['production', 'canary', 'shadow'] as const;
export type Arm = (typeof arms)[number];

/** One row of the prediction log. */
export interface PredictionRecord {
  /** uuid, returned to the caller as the prediction id */
  id: string;
  time: Date;
  /** the authenticated caller (key name or JWT subject) */
  client: string;
  /** route template, e.g. /v1/predict */
  route: string;
  modelName: string;
  modelVersion: string;
  modelDigest: string;
  arm: Arm;
  /** the period predicted, YYYY-MM-DD (monthly data: the first day of the month) */
  date: string;
  /** periods past the last known actual (0 = the next period) */
  horizon: number;
  /** the request's inputs as given (temperature, covariates) */
  inputs: Record<string, unknown>;
  prediction: number;
  lower: number | null;
  upper: number | null;
  /** for a shadow row: the id of the prediction served for the same request */
  shadowOf?: string | null;
}

/**
 * Writes a batch in one statement whose only parameter is the rows as one JSON array
 * (`json_to_recordset`): one round trip and one plan whatever the batch size, and on the
 * event loop a single native `JSON.stringify`; PostgreSQL does the per-row work. Idempotent on
 * `id`, so a batch retried after a lost acknowledgement does not duplicate rows.
 * @returns the number of rows inserted (less than rows.length when some ids were already there).
 */
export async function insertPredictions(
  db: pg.Pool | pg.PoolClient,
  rows: readonly PredictionRecord[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db.query(
    `INSERT INTO predictions (id, time, client, route, model_name, model_version, model_digest,
                              arm, date, horizon, inputs, prediction, lower, upper, shadow_of)
     SELECT id, time, client, route, "modelName", "modelVersion", "modelDigest",
            arm, date, horizon, inputs, prediction, lower, upper, "shadowOf"
       FROM json_to_recordset($1::json) AS r(
              id uuid, time timestamptz, client text, route text, "modelName" text,
              "modelVersion" text, "modelDigest" text, arm text, date date, horizon int,
              inputs jsonb, prediction float8, lower float8, upper float8, "shadowOf" uuid)
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return result.rowCount ?? 0;
}

/** The logged prediction with this id (served or canary; not shadow rows), or undefined. */
export async function findPrediction(
  db: pg.Pool,
  id: string,
): Promise<{ id: string; date: string; modelVersion: string; arm: Arm } | undefined> {
  const r = await db.query<{ id: string; date: string; model_version: string; arm: Arm }>(
    `SELECT id, to_char(date, 'YYYY-MM-DD') AS date, model_version, arm
       FROM predictions WHERE id = $1 AND arm <> 'shadow'`,
    [id],
  );
  const row = r.rows[0];
  return row && { id: row.id, date: row.date, modelVersion: row.model_version, arm: row.arm };
}

/** A logged prediction next to the actual it turned out to have. */
export interface Outcome {
  modelVersion: string;
  arm: Arm;
  time: Date;
  date: string;
  horizon: number;
  prediction: number;
  lower: number | null;
  upper: number | null;
  actual: number;
}

/**
 * Predictions made since `since` that have an actual: by their own prediction id, else by a
 * by-date actual for the period they predicted (shadow rows through the prediction they shadow).
 * The input of live MAE / RMSE / coverage per model version and of the canary analysis.
 */
export async function outcomesSince(db: pg.Pool, since: Date): Promise<Outcome[]> {
  const r = await db.query<Outcome>(
    `SELECT p.model_version AS "modelVersion", p.arm, p.time, to_char(p.date, 'YYYY-MM-DD') AS date, p.horizon,
            p.prediction, p.lower, p.upper,
            COALESCE(byid.actual, bydate.actual) AS actual
       FROM predictions p
       LEFT JOIN feedback byid ON byid.prediction_id = COALESCE(p.shadow_of, p.id)
       LEFT JOIN feedback bydate ON bydate.prediction_id IS NULL AND bydate.date = p.date
      WHERE p.time >= $1 AND COALESCE(byid.actual, bydate.actual) IS NOT NULL
      ORDER BY p.time`,
    [since.toISOString()],
  );
  return r.rows;
}
