import type pg from 'pg';

/** An actual sales figure, for one prediction id or for a date. */
export interface FeedbackInput {
  /** the prediction this actual belongs to; absent for an actual reported by date */
  predictionId?: string | undefined;
  /** the period, YYYY-MM-DD (monthly data: the first day of the month) */
  date: string;
  actual: number;
}

/**
 * What storing an actual did (the API's idempotency rule):
 * - `created`: first actual for that prediction id / date;
 * - `duplicate`: the same value again, nothing changed (answer as for created: 200);
 * - `corrected`: a different value replaced the stored one (counted in `corrections`).
 */
export type FeedbackResult = 'created' | 'duplicate' | 'corrected';

/**
 * Stores one actual in a transaction: the feedback row (upsert on the prediction id, or on the
 * date for by-date actuals) and the live sales history for that date (source `feedback`), so the
 * next period's lags use it. The API validates before (unknown id, future date, negative value).
 * @throws pg errors; `isDatabaseUnavailable(err)` tells whether buffering and retrying makes sense.
 */
export async function recordFeedback(db: pg.Pool, input: FeedbackInput): Promise<FeedbackResult> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await upsertFeedback(client, input);
    if (result !== 'duplicate') {
      await client.query(
        `INSERT INTO live_sales (date, sales, source) VALUES ($1, $2, 'feedback')
         ON CONFLICT (date) DO UPDATE SET sales = EXCLUDED.sales, source = EXCLUDED.source,
                                          updated_at = now()`,
        [input.date, input.actual],
      );
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function upsertFeedback(
  client: pg.PoolClient,
  input: FeedbackInput,
): Promise<FeedbackResult> {
  const conflict =
    input.predictionId === undefined
      ? '(date) WHERE prediction_id IS NULL'
      : '(prediction_id) WHERE prediction_id IS NOT NULL';
  // no row back = same value again (the WHERE skipped the update); xmax = 0 = a fresh insert
  const r = await client.query<{ inserted: boolean }>(
    `INSERT INTO feedback (prediction_id, date, actual) VALUES ($1, $2, $3)
     ON CONFLICT ${conflict} DO UPDATE
        SET actual = EXCLUDED.actual, date = EXCLUDED.date, updated_at = now(),
            corrections = feedback.corrections + 1
      WHERE feedback.actual IS DISTINCT FROM EXCLUDED.actual
     RETURNING (xmax = 0) AS inserted`,
    [input.predictionId ?? null, input.date, input.actual],
  );
  const row = r.rows[0];
  if (!row) return 'duplicate';
  return row.inserted ? 'created' : 'corrected';
}

/** The live sales history (actuals received), oldest first, optionally from a date on. */
export async function liveSales(
  db: pg.Pool,
  from?: string,
): Promise<{ date: string; sales: number; source: string }[]> {
  const r = await db.query<{ date: string; sales: number; source: string }>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, sales, source FROM live_sales
      WHERE $1::date IS NULL OR date >= $1::date ORDER BY date`,
    [from ?? null],
  );
  return r.rows;
}
