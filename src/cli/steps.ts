import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { japanColumns } from '../data/dataset';
import type { ModelFamily } from '../ml';
import { evaluateStep, splitStep, trainStep, validateStep } from '../pipeline/steps';
import type { SplitResult } from '../pipeline/types';

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const writeJson = (file: string, value: unknown): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

/**
 * `icecream step ...`: the pipeline's steps without Temporal or MLflow, on files. `dvc repro`
 * runs these (dvc.yaml); the Temporal activities call the same functions.
 */
export function registerSteps(program: Command): void {
  const step = program
    .command('step')
    .description('run one pipeline step offline, on files (used by dvc.yaml)');
  step
    .command('validate')
    .description('load and validate the CSV; write <out>/series.json')
    .requiredOption('--data <file>', 'CSV file')
    .requiredOption('--out <dir>', 'output folder')
    .action(async (o: { data: string; out: string }) => {
      const r = await validateStep(o.data, japanColumns, o.out);
      process.stdout.write(`${r.rows} ${r.frequency} rows ${r.from}..${r.to} -> ${r.seriesFile}\n`);
    });
  step
    .command('split')
    .description('choose the holdout; write <out>')
    .requiredOption('--series <file>', 'series.json from validate')
    .option('--holdout <rows>', 'rows kept for evaluation (default: two seasons)', (v) => Number(v))
    .requiredOption('--out <file>', 'split JSON file')
    .action((o: { series: string; holdout?: number; out: string }) => {
      const r = splitStep(o.series, o.holdout);
      writeJson(o.out, r);
      process.stdout.write(
        `${r.trainRows} train / ${r.holdoutRows} holdout rows (holdout from ${r.holdoutFrom})\n`,
      );
    });
  step
    .command('train')
    .description(
      'fit the forecaster on the training rows (model selection by time-series CV unless --family and --param fix it); write <out>/forecaster.json',
    )
    .requiredOption('--series <file>', 'series.json')
    .requiredOption('--split <file>', 'split JSON')
    .option('--family <name>', 'model family, or "auto" to compare all by CV', 'auto')
    .option(
      '--param <k=v...>',
      'hyperparameter, repeatable (fixes the configuration: no search)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--budget <n>', 'candidates per family in the search', (v) => Number(v))
    .option('--seed <n>', 'seed', (v) => Number(v), 42)
    .option('--coverage <p>', 'prediction interval coverage', (v) => Number(v), 0.9)
    .requiredOption('--out <dir>', 'output folder')
    .action(
      (o: {
        series: string;
        split: string;
        family: string;
        param: string[];
        budget?: number;
        seed: number;
        coverage: number;
        out: string;
      }) => {
        const params = Object.fromEntries(
          o.param.map((kv) => {
            const [k = '', v = ''] = kv.split('=');
            return [k, Number(v)];
          }),
        );
        const r = trainStep(
          o.series,
          readJson<SplitResult>(o.split),
          {
            ...(o.family !== 'auto' ? { family: o.family as ModelFamily } : {}),
            ...(o.param.length ? { params } : {}),
            ...(o.budget !== undefined ? { budget: o.budget } : {}),
            seed: o.seed,
            coverage: o.coverage,
          },
          o.out,
        );
        const cv = r.cv ? ` (CV MAE ${r.cv.mae.toFixed(2)})` : '';
        process.stdout.write(
          `${r.family} ${JSON.stringify(r.params)}${cv} -> ${r.modelFile} (sha256 ${r.checksum.slice(0, 12)})\n`,
        );
      },
    );
  step
    .command('evaluate')
    .description(
      'score the model on the holdout next to the naive baselines; write <out>/evaluation.json and metrics',
    )
    .requiredOption('--series <file>', 'series.json')
    .requiredOption('--split <file>', 'split JSON')
    .requiredOption('--model <file>', 'forecaster.json')
    .requiredOption('--out <dir>', 'output folder')
    .requiredOption('--metrics <file>', 'metrics JSON for `dvc metrics show`')
    .action((o: { series: string; split: string; model: string; out: string; metrics: string }) => {
      const r = evaluateStep(o.series, readJson<SplitResult>(o.split), o.model, o.out);
      writeJson(o.metrics, {
        holdout: r.metrics,
        baseline_last_value: r.baselines.lastValue,
        baseline_seasonal_naive: r.baselines.seasonalNaive,
        interval_coverage: r.coverage,
      });
      process.stdout.write(
        `holdout MAE ${r.metrics.mae.toFixed(2)} RMSE ${r.metrics.rmse.toFixed(2)} (seasonal naive MAE ${r.baselines.seasonalNaive.mae.toFixed(2)})\n`,
      );
    });
}
