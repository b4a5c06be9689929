import { addPeriods, formatDay, parseDay, periodsBetween, type Series } from '../ml/serving';
import type { ServingModel } from './model-holder';

interface Inputs {
  temperature: number;
  covariates?: Record<string, number> | undefined;
}

/**
 * The live sales history: actuals received through `/v1/feedback`, and the inputs (temperature,
 * covariates) requests gave for those periods. It belongs to the server, not to a model, so a model
 * swap keeps it: every model sees its own training history extended with the actuals of the
 * periods right after its end, and its lags use real sales instead of its own guesses.
 */
export class LiveHistory {
  private readonly actuals = new Map<string, number>();
  private readonly inputs = new Map<string, Inputs>();
  private changes = 0;
  private readonly cache = new WeakMap<ServingModel, { changes: number; series: Series }>();

  constructor(private readonly maxPeriods = 20_000) {}

  /** Records the actual sales of a period (YYYY-MM-DD; monthly: the first of the month). */
  setActual(date: string, sales: number): void {
    if (this.actuals.get(date) === sales) return;
    if (this.actuals.size >= this.maxPeriods && !this.actuals.has(date)) return;
    this.actuals.set(date, sales);
    this.changes++;
  }

  /** Remembers what a request said about a period (the latest request wins). */
  noteInputs(date: string, inputs: Inputs): void {
    const before = this.inputs.get(date);
    if (!before && this.inputs.size >= this.maxPeriods) return;
    if (before && sameInputs(before, inputs)) return;
    this.inputs.set(date, inputs);
    // only a period already in the extended history changes it (and its cache)
    if (this.actuals.has(date)) this.changes++;
  }

  /** The actual of a period, if one arrived. */
  actual(date: string): number | undefined {
    return this.actuals.get(date);
  }

  /**
   * The model's history followed by the actuals of the consecutive periods after its last date
   * (stopping at the first period without one). A period's temperature is the one requests gave
   * for it, else the mean temperature of the same calendar month in the history; covariates
   * likewise, else their training means. Cached until the live history changes.
   */
  historyFor(model: ServingModel): Series {
    const cached = this.cache.get(model);
    if (cached && cached.changes === this.changes) return cached.series;
    const series = this.extend(model);
    this.cache.set(model, { changes: this.changes, series });
    return series;
  }

  /** Periods from the end of the (extended) history to `date`: 0 = the next period. */
  horizonOf(model: ServingModel, date: string): number {
    const h = this.historyFor(model);
    const last = parseDay(h.dates[h.dates.length - 1]!);
    return Math.max(0, Math.round(periodsBetween(last, parseDay(date), h.frequency)) - 1);
  }

  private extend(model: ServingModel): Series {
    const base = model.history;
    const frequency = base.frequency;
    const added: string[] = [];
    let day = parseDay(base.dates[base.dates.length - 1]!);
    for (;;) {
      day = addPeriods(day, 1, frequency);
      const date = formatDay(day);
      if (!this.actuals.has(date)) break;
      added.push(date);
    }
    if (added.length === 0) return base;
    const n = base.dates.length;
    const m = n + added.length;
    const grow = (a: Float64Array, fill: (date: string) => number): Float64Array => {
      const out = new Float64Array(m);
      out.set(a);
      added.forEach((d, i) => (out[n + i] = fill(d)));
      return out;
    };
    const monthMean = monthlyMeans(base);
    const covariates: Record<string, Float64Array> = {};
    for (const [name, col] of Object.entries(base.covariates)) {
      const mean = model.forecaster.training.covariateMeans[name] ?? 0;
      covariates[name] = grow(col, (d) => this.inputs.get(d)?.covariates?.[name] ?? mean);
    }
    return {
      dates: [...base.dates, ...added],
      target: grow(base.target, (d) => this.actuals.get(d)!),
      temperature: grow(
        base.temperature,
        (d) => this.inputs.get(d)?.temperature ?? monthMean[Number(d.slice(5, 7)) - 1]!,
      ),
      covariates,
      frequency,
    };
  }
}

function sameInputs(a: Inputs, b: Inputs): boolean {
  if (a.temperature !== b.temperature) return false;
  const ka = Object.keys(a.covariates ?? {});
  if (ka.length !== Object.keys(b.covariates ?? {}).length) return false;
  return ka.every((k) => a.covariates![k] === b.covariates?.[k]);
}

/** Mean temperature per calendar month (index 0 = January); the overall mean for a missing month. */
function monthlyMeans(s: Series): number[] {
  const sum = new Array<number>(12).fill(0);
  const count = new Array<number>(12).fill(0);
  let all = 0;
  s.dates.forEach((d, i) => {
    const t = s.temperature[i]!;
    const k = Number(d.slice(5, 7)) - 1;
    sum[k]! += t;
    count[k]!++;
    all += t;
  });
  const overall = s.dates.length ? all / s.dates.length : 0;
  return sum.map((x, k) => (count[k] ? x / count[k] : overall));
}
