import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { findLeakingCovariates, parseDataset, japanColumns, type ColumnMap } from '../data/dataset';
import { loadConfig } from '../config';
import {
  MODEL_FAMILIES,
  serializeForecaster,
  type Metrics,
  type ModelFamily,
  type Series,
} from '../ml';
import { evaluateStoredVersion } from '../pipeline/reevaluate';
import { modelStoreFromConfig } from '../model-store/from-config';
import { runExperiment, type ExperimentOptions, type ExperimentReport } from '../ml/experiment';
import { writeExperimentPlots } from '../report/render';
import { createProgress } from './progress';

/** Options of `icecream evaluate`, as commander parses them. */
export interface EvaluateCliOptions {
  data: string;
  dateCol?: string;
  targetCol?: string;
  tempCol?: string;
  tempScale?: number;
  covariates?: string;
  folds: number;
  horizon?: number;
  gap?: number;
  holdout?: number;
  budget: number;
  strategy: 'grid' | 'random' | 'auto';
  families?: string;
  seed: number;
  coverage: number;
  json?: boolean;
  plots?: string;
  saveModel?: string;
  /** re-evaluate this registered version instead of comparing families */
  model?: string;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

/** Column map from the flags; without any column flag a file with the Japan default columns uses those. */
export function columnsFromOptions(o: EvaluateCliOptions, header: string[]): ColumnMap {
  const anyFlag = o.dateCol ?? o.targetCol ?? o.tempCol;
  const base: ColumnMap =
    !anyFlag && !header.includes('date') && header.includes(japanColumns.date)
      ? { ...japanColumns }
      : { date: 'date', target: 'sales', temperature: 'temperature' };
  const cols: ColumnMap = {
    date: o.dateCol ?? base.date,
    target: o.targetCol ?? base.target,
    temperature: o.tempCol ?? base.temperature,
  };
  if (o.tempScale !== undefined) cols.temperatureScale = o.tempScale;
  if (o.covariates !== undefined)
    cols.covariates = o.covariates
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  else if (base.covariates) cols.covariates = base.covariates;
  return cols;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function num(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}
function metricCells(m: Metrics): string {
  return [num(m.mae), num(m.rmse), num(m.mape), num(m.r2, 3)].map((c) => c.padStart(9)).join('');
}

/** Human-readable summary of a report (the terminal output of `icecream evaluate`). */
export function formatReport(r: ExperimentReport, source: string): string {
  const lines: string[] = [];
  const p = r.protocol;
  lines.push(
    `${source}: ${r.dataset.rows} ${r.dataset.frequency} rows ${r.dataset.from}..${r.dataset.to}`,
  );
  const f0 = p.folds[0]!;
  lines.push(
    `CV: ${p.folds.length} expanding folds of ${f0.testEnd - f0.testStart} rows (first trains on ${f0.trainEnd}), ${p.budget} candidates per family, seed ${p.seed}` +
      (p.holdout
        ? `; untouched holdout ${p.holdout.from}..${p.holdout.to} (${p.holdout.rows} rows)`
        : '; no holdout'),
  );
  lines.push('');
  lines.push(
    `${pad('model (CV, pooled)', 26)}${['MAE', 'RMSE', 'MAPE%', 'R2'].map((h) => h.padStart(9)).join('')}   best configuration`,
  );
  const fams = [...r.families].sort(
    (a, b) => (a.best?.cv.mae ?? Infinity) - (b.best?.cv.mae ?? Infinity),
  );
  for (const f of fams) {
    const mark = f.family === r.chosen.family ? ' *' : '';
    if (!f.best) {
      lines.push(`${pad(f.family + mark, 26)}  failed: ${f.error ?? 'unknown error'}`);
      continue;
    }
    const params = Object.entries(f.best.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const feats = Object.keys(f.best.features).length
      ? ` features ${JSON.stringify(f.best.features)}`
      : '';
    lines.push(`${pad(f.family + mark, 26)}${metricCells(f.best.cv)}   ${params}${feats}`);
  }
  lines.push(`${pad('naive: last value', 26)}${metricCells(r.baselines.cv.lastValue)}`);
  lines.push(
    `${pad(`naive: seasonal (lag ${r.baselines.cv.seasonalPeriod})`, 26)}${metricCells(r.baselines.cv.seasonalNaive)}`,
  );
  lines.push('');
  lines.push(`chosen: ${r.chosen.family} (lowest CV MAE ${num(r.chosen.cv.mae)})`);
  if (r.holdout && r.baselines.holdout) {
    const h = r.holdout.metrics;
    lines.push(
      `holdout: MAE ${num(h.mae)}  RMSE ${num(h.rmse)}  MAPE ${num(h.mape)}%  R2 ${num(h.r2, 3)}   (naive last value ${num(r.baselines.holdout.lastValue.mae)}, seasonal ${num(r.baselines.holdout.seasonalNaive.mae)})`,
    );
    lines.push(
      `interval: ${Math.round(r.interval.coverage * 100)}% = prediction +/- ${num(r.interval.halfWidth)} (${r.interval.method}, ${r.interval.nResiduals} residuals); empirical coverage on the holdout ${num(r.holdout.coverage.empirical * 100)}%`,
    );
  } else {
    lines.push(
      `interval: ${Math.round(r.interval.coverage * 100)}% = prediction +/- ${num(r.interval.halfWidth)} (${r.interval.method}, ${r.interval.nResiduals} residuals)`,
    );
  }
  const far = r.interval.byHorizon;
  if (far?.length)
    lines.push(
      `          past the history: +/- ${num(far[0]!)} one period ahead, ${num(far[far.length - 1]!)} ${far.length} periods ahead (recursive backtests)`,
    );
  lines.push('');
  const ea = r.errorAnalysis;
  lines.push(
    `error analysis (${ea.n} out-of-sample predictions; bias = mean(actual - predicted)):`,
  );
  lines.push(
    `  by temperature: ${ea.byTemperatureBand.map((g) => `${g.key} MAE ${num(g.mae)} bias ${num(g.bias)} (n=${g.n})`).join('; ')}`,
  );
  lines.push(`  by month:       ${ea.byMonth.map((g) => `${g.key} ${num(g.mae)}`).join('  ')}`);
  if (ea.byWeekday)
    lines.push(`  by weekday:     ${ea.byWeekday.map((g) => `${g.key} ${num(g.mae)}`).join('  ')}`);
  lines.push(
    `  worst:          ${ea.worst
      .slice(0, 5)
      .map(
        (w) =>
          `${w.date} (${w.source}) actual ${num(w.actual, 0)} predicted ${num(w.prediction, 0)}`,
      )
      .join('; ')}`,
  );
  lines.push(
    `  top features:   ${r.featureImportance
      .slice(0, 6)
      .map((f) => `${f.name} ${num(f.importance * 100)}%`)
      .join(', ')}`,
  );
  return lines.join('\n');
}

/**
 * Runs `icecream evaluate` with parsed options; writes the table (or JSON) to `out`, progress and
 * notes to `err`. Throws DatasetValidationError for bad data, CrossValidationError for too few rows.
 */
/** Reads and validates the CSV the flags name; drops covariates that reproduce the target unless --covariates chose them. */
async function loadSeries(o: EvaluateCliOptions, err: NodeJS.WritableStream): Promise<Series> {
  const text = await readFile(o.data, 'utf8');
  const header = (text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '')
    .split(',')
    .map((h) => h.trim().replace(/^"|"$/g, ''));
  const columns = columnsFromOptions(o, header);
  let series = parseDataset(text, columns, o.data);
  if (o.covariates === undefined) {
    const leaking = findLeakingCovariates(series);
    if (leaking.length) {
      err.write(
        `note: ignoring covariates that reproduce the target: ${leaking.join(', ')} (pass --covariates to choose explicitly)\n`,
      );
      const covariates = { ...series.covariates };
      for (const c of leaking) delete covariates[c];
      series = { ...series, covariates };
    }
  }
  return series;
}

export async function runEvaluate(
  o: EvaluateCliOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
): Promise<ExperimentReport> {
  const series = await loadSeries(o, err);
  const families = o.families
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of families ?? []) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(f))
      throw new InvalidArgumentError(
        `unknown family "${f}" (expected some of: ${MODEL_FAMILIES.join(', ')})`,
      );
  }
  const options: ExperimentOptions = {
    folds: o.folds,
    budget: o.budget,
    strategy: o.strategy,
    seed: o.seed,
    coverage: o.coverage,
  };
  if (families) options.families = families as ModelFamily[];
  if (o.horizon !== undefined) options.horizon = o.horizon;
  if (o.gap !== undefined) options.gap = o.gap;
  if (o.holdout !== undefined) options.holdout = o.holdout;
  const progress = createProgress('evaluate', err);
  const { report, forecaster } = runExperiment(series, options, (p) =>
    progress.update(p.done, p.total, p.stage),
  );
  progress.finish();
  if (o.plots) {
    const files = await writeExperimentPlots(report, o.plots);
    err.write(`plots: ${files.length} files in ${o.plots}\n`);
  }
  if (o.saveModel) {
    await writeFile(o.saveModel, serializeForecaster(forecaster));
    err.write(`model: ${o.saveModel}\n`);
  }
  out.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report, o.data)}\n`);
  return report;
}

/** Registers `icecream evaluate` on the program (offline: no Temporal, no MLflow). */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description(
      'compare every model family with time-series CV, naive baselines and an untouched holdout, offline',
    )
    .requiredOption(
      '--data <file>',
      'CSV with a header (date, sales, temperature, optional numeric covariates)',
    )
    .option(
      '--date-col <name>',
      'date column (default "date", or month_start for the Japan dataset)',
    )
    .option('--target-col <name>', 'sales column (default "sales")')
    .option('--temp-col <name>', 'temperature column in deg C (default "temperature")')
    .option(
      '--temp-scale <k>',
      'multiply the temperature column by k (bike data: --temp-scale 41)',
      positiveNumber('--temp-scale'),
    )
    .option('--covariates <a,b>', 'numeric covariate columns (default: every other numeric column)')
    .option('--folds <n>', 'expanding CV folds', positiveInt('--folds'), 5)
    .option(
      '--horizon <rows>',
      'rows per CV test fold (default rows / (folds + 1))',
      positiveInt('--horizon'),
    )
    .option(
      '--gap <rows>',
      'rows skipped between training and each test fold',
      positiveInt('--gap'),
    )
    .option(
      '--holdout <rows>',
      'rows at the end kept for the final check (default 12 monthly / 13 weekly / 28 daily; 0 = none)',
      positiveInt('--holdout'),
    )
    .option('--budget <n>', 'hyperparameter candidates per family', positiveInt('--budget'), 20)
    .option(
      '--strategy <s>',
      'search: grid, random, or auto (grid when it fits the budget)',
      (v) => {
        if (v !== 'grid' && v !== 'random' && v !== 'auto')
          throw new InvalidArgumentError('--strategy must be grid, random or auto');
        return v;
      },
      'auto',
    )
    .option('--families <a,b>', `families to compare (default all: ${MODEL_FAMILIES.join(', ')})`)
    .option('--seed <n>', 'seed', positiveInt('--seed'), 42)
    .option('--coverage <p>', 'prediction interval coverage', positiveNumber('--coverage'), 0.9)
    .option('--json', 'print the full report as JSON')
    .option('--plots <dir>', 'write SVG and PNG plots to this folder')
    .option('--save-model <file>', 'write the chosen forecaster (serialized, with checksum)')
    .option(
      '--model <version>',
      'instead: re-evaluate this registered model version (from MLflow) on the data, one step ahead, next to the baselines',
    )
    .action(async (o: EvaluateCliOptions) => {
      if (o.model) await runStoredEvaluate(o, o.model);
      else await runEvaluate(o);
    });
}

/** `icecream evaluate --model VERSION --data FILE`: a stored version on any data. */
async function runStoredEvaluate(
  o: EvaluateCliOptions,
  version: string,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const config = loadConfig();
  const series = await loadSeries(o, process.stderr);
  const r = await evaluateStoredVersion(modelStoreFromConfig(config), version, series);
  if (o.json) {
    out.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  out.write(
    [
      `${r.model} v${r.version} (${r.family}, run ${r.runId ?? '?'}) on ${o.data}: ${r.rows} rows ${r.from}..${r.to}, one step ahead`,
      '',
      `model (rows scored)             MAE     RMSE    MAPE%       R2`,
      `${pad(`v${r.version} ${r.family}`, 26)}${metricCells(r.metrics)}`,
      `${pad('naive: last value', 26)}${metricCells(r.baselines.lastValue)}`,
      `${pad(`naive: seasonal (lag ${r.baselines.seasonalPeriod})`, 26)}${metricCells(r.baselines.seasonalNaive)}`,
      '',
      `interval: ${(r.coverage.nominal * 100).toFixed(0)}% nominal, ${(r.coverage.empirical * 100).toFixed(1)}% empirical coverage`,
      '',
    ].join('\n'),
  );
}
