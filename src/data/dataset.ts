import { readFile } from 'node:fs/promises';
import { addPeriods, formatDay, inferFrequency, parseDay } from '../ml/dates';
import type { Frequency, Series } from '../ml/types';

/** Which CSV columns hold the date, the target (sales) and the temperature. */
export interface ColumnMap {
  date: string;
  target: string;
  temperature: string;
  /** Multiplies the temperature column (e.g. 41 for the UCI bike data's normalised `temp`). Default 1. */
  temperatureScale?: number;
  /**
   * Covariate columns; default every other column whose values are all numeric. A column whose
   * name contains "holiday" becomes a 0/1 flag (names or yes/no allowed) and drives the holiday features.
   */
  covariates?: string[];
}

/** The default dataset `data/japan_icecream_tokyo_monthly.csv`: weather covariates only (beer spending is not known in advance). */
export const japanColumns: ColumnMap = {
  date: 'month_start',
  target: 'icecream_yen',
  temperature: 'tokyo_tmax_mean_c',
  covariates: ['tokyo_days_tavg_ge25c', 'tokyo_precip_mm', 'tokyo_humidity_pct', 'days_in_month'],
};

/** UCI bike sharing daily data: `temp` is deg C / 41; covariates exclude casual/registered (they sum to the target). */
export const bikeColumns: ColumnMap = {
  date: 'dteday',
  target: 'cnt',
  temperature: 'temp',
  temperatureScale: 41,
  covariates: ['holiday', 'workingday', 'weathersit', 'hum', 'windspeed'],
};

/** One reason a dataset was rejected. `line` is the 1-based CSV line (1 = header), null for the whole file. */
export interface DatasetProblem {
  line: number | null;
  column?: string;
  reason: string;
}

/** The dataset cannot be trained on; `problems` lists every bad row and reason (not retryable: fix the data). */
export class DatasetValidationError extends Error {
  constructor(
    readonly problems: DatasetProblem[],
    readonly source?: string,
  ) {
    const head = problems
      .slice(0, 10)
      .map((p) => `  ${p.line === null ? 'file' : `line ${p.line}`}${p.column ? ` [${p.column}]` : ''}: ${p.reason}`)
      .join('\n');
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : '';
    super(`${source ?? 'dataset'} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${head}${more}`);
    this.name = 'DatasetValidationError';
  }
}

/** Options of `parseDataset`. */
export interface ParseOptions {
  /** Fewest valid rows accepted (default 8). */
  minRows?: number;
}

/** Splits one CSV line (RFC 4180 quotes, "" escapes). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** A holiday column may hold names ("Golden Week") or flags: empty, 0, false, no -> 0; anything else -> 1. */
function holidayFlag(s: string | undefined): number {
  const v = (s ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no' || v === 'n') return 0;
  const num = Number(v);
  return Number.isFinite(num) ? (num > 0 ? 1 : 0) : 1;
}

function parseNumber(s: string | undefined): number {
  if (s === undefined || s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/**
 * Parses and validates a CSV (header row first) into a gap-free Series sorted by date.
 * Dates are `YYYY-MM-DD` or `YYYY-MM`; monthly data is keyed by the first of the month.
 * Throws DatasetValidationError listing EVERY problem: missing column, unparseable date,
 * duplicate date, non-numeric value, negative sales, gap in the series, too few rows, constant target.
 */
export function parseDataset(csvText: string, columns: ColumnMap, source?: string, options: ParseOptions = {}): Series {
  const minRows = options.minRows ?? 8;
  const problems: DatasetProblem[] = [];
  const lines = csvText.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const col = (name: string): number => header.indexOf(name);
  for (const [role, name] of [
    ['date', columns.date],
    ['target', columns.target],
    ['temperature', columns.temperature],
  ] as const) {
    if (col(name) < 0) problems.push({ line: 1, column: name, reason: `missing ${role} column "${name}" (header has: ${header.join(', ')})` });
  }
  for (const c of columns.covariates ?? []) {
    if (col(c) < 0) problems.push({ line: 1, column: c, reason: `missing covariate column "${c}"` });
  }
  if (problems.length) throw new DatasetValidationError(problems, source);

  const records: { line: number; cells: string[] }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const cells = splitCsvLine(lines[i]!);
    if (cells.length !== header.length) {
      problems.push({ line: i + 1, reason: `has ${cells.length} fields, header has ${header.length}` });
      continue;
    }
    records.push({ line: i + 1, cells });
  }
  const reserved = new Set([columns.date, columns.target, columns.temperature]);
  const isHoliday = (name: string) => /holiday/i.test(name);
  const covNames =
    columns.covariates ??
    header.filter((h, j) => !reserved.has(h) && h !== '' && records.length > 0 && (isHoliday(h) || records.every((r) => Number.isFinite(parseNumber(r.cells[j])))));
  const iDate = col(columns.date);
  const iTarget = col(columns.target);
  const iTemp = col(columns.temperature);
  const scale = columns.temperatureScale ?? 1;

  const rawDays = records.map((r) => parseDay(r.cells[iDate]!));
  let frequency: Frequency | null = null;
  try {
    frequency = inferFrequency(records.map((r) => r.cells[iDate]!).filter((_, k) => Number.isFinite(rawDays[k])));
  } catch (e) {
    problems.push({ line: null, column: columns.date, reason: (e as Error).message });
  }

  interface Row {
    line: number;
    day: number;
    target: number;
    temperature: number;
    covs: number[];
  }
  const rows: Row[] = [];
  const seen = new Map<number, number>();
  const dated: { line: number; day: number }[] = [];
  records.forEach((r, k) => {
    let ok = true;
    let day = rawDays[k]!;
    if (!Number.isFinite(day)) {
      problems.push({ line: r.line, column: columns.date, reason: `unparseable date "${r.cells[iDate]}" (expected YYYY-MM-DD or YYYY-MM)` });
      ok = false;
    } else if (frequency === 'monthly') {
      const d = new Date(day * 86_400_000);
      day = Math.round(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 86_400_000);
    }
    if (ok) {
      const first = seen.get(day);
      if (first !== undefined) {
        problems.push({ line: r.line, column: columns.date, reason: `duplicate date ${formatDay(day)} (first on line ${first})` });
        ok = false;
      } else {
        seen.set(day, r.line);
        dated.push({ line: r.line, day });
      }
    }
    const target = parseNumber(r.cells[iTarget]);
    if (Number.isNaN(target)) {
      problems.push({ line: r.line, column: columns.target, reason: `non-numeric sales value "${r.cells[iTarget]}"` });
      ok = false;
    } else if (target < 0) {
      problems.push({ line: r.line, column: columns.target, reason: `negative sales ${target}` });
      ok = false;
    }
    const temperature = parseNumber(r.cells[iTemp]) * scale;
    if (Number.isNaN(temperature)) {
      problems.push({ line: r.line, column: columns.temperature, reason: `non-numeric temperature "${r.cells[iTemp]}"` });
      ok = false;
    }
    const covs = covNames.map((c) => {
      const v = isHoliday(c) ? holidayFlag(r.cells[col(c)]) : parseNumber(r.cells[col(c)]);
      if (Number.isNaN(v)) {
        problems.push({ line: r.line, column: c, reason: `non-numeric value "${r.cells[col(c)]}"` });
        ok = false;
      }
      return v;
    });
    if (ok) rows.push({ line: r.line, day, target, temperature, covs });
  });

  rows.sort((a, b) => a.day - b.day);
  // gaps are judged on every row with a valid, unique date, so a row rejected for its values is not also a gap
  dated.sort((a, b) => a.day - b.day);
  if (frequency) {
    for (let k = 1; k < dated.length; k++) {
      const expected = addPeriods(dated[k - 1]!.day, 1, frequency);
      if (dated[k]!.day !== expected) {
        problems.push({
          line: dated[k]!.line,
          column: columns.date,
          reason: `gap in the ${frequency} series: no row for ${formatDay(expected)} (previous date ${formatDay(dated[k - 1]!.day)}, this row ${formatDay(dated[k]!.day)})`,
        });
      }
    }
  }
  if (rows.length < minRows) problems.push({ line: null, reason: `too few valid rows: ${rows.length} (need at least ${minRows})` });
  if (rows.length > 1 && rows.every((r) => r.target === rows[0]!.target)) {
    problems.push({ line: null, column: columns.target, reason: `constant target (every value is ${rows[0]!.target}): nothing to learn` });
  }
  if (problems.length || !frequency) {
    problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    throw new DatasetValidationError(problems, source);
  }

  const covariates: Record<string, Float64Array> = {};
  covNames.forEach((c, j) => (covariates[c] = Float64Array.from(rows, (r) => r.covs[j]!)));
  return {
    dates: rows.map((r) => formatDay(r.day)),
    target: Float64Array.from(rows, (r) => r.target),
    temperature: Float64Array.from(rows, (r) => r.temperature),
    covariates,
    frequency,
  };
}

/**
 * Reads a CSV file and validates it (see `parseDataset`). Throws DatasetValidationError for bad
 * data and the file system's error (ENOENT...) for an unreadable file.
 */
export async function loadDataset(path: string, columns: ColumnMap, options: ParseOptions = {}): Promise<Series> {
  const text = await readFile(path, 'utf8');
  return parseDataset(text, columns, path, options);
}

/**
 * Covariates that are the target in disguise: a column equal to the target, or two columns that
 * add up to it on every row (e.g. the bike data's `casual` + `registered` = `cnt`). Training on them
 * would score perfectly and be useless at prediction time.
 */
export function findLeakingCovariates(series: Series): string[] {
  const names = Object.keys(series.covariates).sort();
  const y = series.target;
  const same = (f: (i: number) => number) => {
    for (let i = 0; i < y.length; i++) if (Math.abs(f(i) - y[i]!) > 1e-9 * (1 + Math.abs(y[i]!))) return false;
    return true;
  };
  const out = new Set<string>();
  for (const a of names) if (same((i) => series.covariates[a]![i]!)) out.add(a);
  for (let j = 0; j < names.length; j++) {
    for (let k = j + 1; k < names.length; k++) {
      const a = series.covariates[names[j]!]!;
      const b = series.covariates[names[k]!]!;
      if (same((i) => a[i]! + b[i]!)) {
        out.add(names[j]!);
        out.add(names[k]!);
      }
    }
  }
  return [...out].sort();
}
