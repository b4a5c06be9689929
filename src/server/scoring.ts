/**
 * MLflow's scoring protocol (`POST /invocations` of `mlflow models serve`): the four JSON input
 * shapes turned into prediction rows. Pure.
 */
import type { z } from 'zod';
import type { FeatureRow } from '../ml/serving';
import { HttpError } from './errors';
import type { invocationsRequest } from './schemas';

type Cell = string | number | null;
type Invocation = z.infer<typeof invocationsRequest>;

/**
 * A date cell as pandas and MLflow serialise it: `YYYY-MM-DD`, `YYYY-MM`, a midnight ISO
 * timestamp (`2019-01-01T00:00:00`, `...00.000Z`) or epoch milliseconds at midnight UTC.
 * Returns `YYYY-MM-DD`, or undefined when the cell is none of these.
 */
export function normaliseDate(cell: Cell | undefined): string | undefined {
  if (typeof cell === 'number') {
    if (!Number.isInteger(cell) || cell % 86_400_000 !== 0) return undefined;
    const d = new Date(cell);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString().slice(0, 10);
  }
  if (typeof cell !== 'string') return undefined;
  const m = /^(\d{4}-\d{2})(-\d{2})?(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|\+00:00)?)?$/.exec(cell);
  if (!m) return undefined;
  return m[2] ? `${m[1]!}${m[2]}` : `${m[1]!}-01`;
}

function columnsOf(body: Invocation): { names: string[]; rows: Cell[][] } {
  if ('dataframe_split' in body) {
    const { columns, data } = body.dataframe_split;
    return { names: columns, rows: data };
  }
  const input =
    'dataframe_records' in body
      ? body.dataframe_records
      : 'instances' in body
        ? body.instances
        : body.inputs;
  if (Array.isArray(input)) {
    const names = [...new Set(input.flatMap((r) => Object.keys(r)))];
    return { names, rows: input.map((r) => names.map((n) => r[n] ?? null)) };
  }
  // a dict of columns
  const names = Object.keys(input);
  const n = Math.max(0, ...names.map((k) => input[k]!.length));
  for (const k of names) {
    if (input[k]!.length !== n)
      throw new HttpError(
        400,
        'invalid_request',
        `column '${k}' has ${input[k]!.length} values, others ${n}`,
      );
  }
  return {
    names,
    rows: Array.from({ length: n }, (_, i) => names.map((k) => input[k]![i] ?? null)),
  };
}

/**
 * The rows of an `/invocations` body. Needs columns `date` and `temperature`; covariate columns
 * the model uses are read when present; other columns are ignored (as MLflow does).
 * @throws HttpError 400 naming the row and column of the first bad cell
 */
export function invocationRows(body: Invocation, covariates: readonly string[]): FeatureRow[] {
  const { names, rows } = columnsOf(body);
  const dateAt = names.indexOf('date');
  const tempAt = names.indexOf('temperature');
  const missing = [dateAt < 0 && 'date', tempAt < 0 && 'temperature'].filter(Boolean);
  if (missing.length)
    throw new HttpError(
      400,
      'invalid_request',
      `missing column(s): ${missing.join(', ')}; got ${JSON.stringify(names)}`,
    );
  if (rows.length === 0) throw new HttpError(400, 'invalid_request', 'no rows to predict');
  const covAt = covariates.map((c) => [c, names.indexOf(c)] as const).filter(([, i]) => i >= 0);
  return rows.map((r, i) => {
    if (r.length !== names.length)
      throw new HttpError(
        400,
        'invalid_request',
        `row ${i} has ${r.length} values for ${names.length} columns`,
      );
    const date = normaliseDate(r[dateAt]);
    if (!date)
      throw new HttpError(
        400,
        'invalid_request',
        `row ${i}: date ${JSON.stringify(r[dateAt])} is not a date`,
      );
    const temperature = r[tempAt];
    if (
      typeof temperature !== 'number' ||
      !Number.isFinite(temperature) ||
      Math.abs(temperature) > 60
    )
      throw new HttpError(
        400,
        'invalid_request',
        `row ${i}: temperature ${JSON.stringify(temperature)} is not a number in [-60, 60]`,
      );
    if (covAt.length === 0) return { date, temperature };
    const cov: Record<string, number> = {};
    for (const [c, j] of covAt) {
      const v = r[j];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new HttpError(
          400,
          'invalid_request',
          `row ${i}: ${c} ${JSON.stringify(v)} is not a number`,
        );
      cov[c] = v;
    }
    return { date, temperature, covariates: cov };
  });
}
