/**
 * Accuracy benchmark: the automatically chosen model of `runExperiment` vs scikit-learn's best of
 * ridge / random forest / hist gradient boosting with lag + season features, side by side in one
 * run, on the real datasets. Protocol for both: scikit-learn TimeSeriesSplit(5) expanding folds
 * over all rows, one-step-ahead predictions from actual lags, MAE pooled over every test row, the
 * family with the lowest MAE chosen. The peer runs in .bench/venv (bench/python/requirements-speed.txt).
 *
 *   npx tsc -p bench/tsconfig.accuracy.json && node .bench/build-accuracy/bench/accuracy.js [--no-peer]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bikeColumns, japanColumns, loadDataset, type ColumnMap } from '../src/data/dataset';
import { runExperiment } from '../src/ml/experiment';

interface DatasetCase {
  name: string;
  file: string;
  columns: ColumnMap;
  frequency: 'monthly' | 'daily';
  /** target from issue 3 */
  target: number;
}

/** Result for one dataset. */
export interface AccuracyResult {
  dataset: string;
  rows: number;
  target: number;
  ours: {
    family: string;
    mae: number;
    params: Record<string, number>;
    features: object;
    seconds: number;
    perFamily: Record<string, number>;
    failed: Record<string, string>;
  };
  seasonalNaive: number;
  lastValue: number;
  peer: PeerResult | { error: string } | null;
  /** selection-free check: choose on the rows before the last n/6, refit, score those rows once */
  holdout: {
    rows: number;
    ours: { family: string; mae: number };
    peer: { family: string; mae: number } | null;
    seasonalNaive: number;
    lastValue: number;
  };
}

interface PeerResult {
  family: string;
  mae: number;
  perFamily: Record<string, number>;
  sklearn: string;
  seconds: number;
  holdout: { mae: number } | null;
}

/** Options of `benchAccuracy`. */
export interface AccuracyBenchOptions {
  /** Repository root; default three levels above the build dir (.bench/build/bench). */
  root?: string;
  /** Skip the scikit-learn peer. */
  noPeer?: boolean;
  log?: (line: string) => void;
}

function cases(root: string): DatasetCase[] {
  return [
    {
      name: 'Japan ice cream, monthly (real)',
      file: join(root, 'data/japan_icecream_tokyo_monthly.csv'),
      columns: japanColumns,
      frequency: 'monthly',
      target: 41.5,
    },
    {
      name: 'UCI bike rentals, daily (real)',
      file: join(root, 'bench/data/uci_bike_sharing_daily_2011_2012.csv'),
      columns: bikeColumns,
      frequency: 'daily',
      target: 1050,
    },
  ];
}

function runPeer(root: string, c: DatasetCase, holdout = 0): PeerResult | { error: string } {
  const python = join(root, '.bench/venv/bin/python');
  if (!existsSync(python)) {
    const mk = spawnSync('python3', ['-m', 'venv', join(root, '.bench/venv')], {
      stdio: 'inherit',
    });
    const pip =
      mk.status === 0
        ? spawnSync(
            join(root, '.bench/venv/bin/pip'),
            ['install', '--quiet', '-r', join(root, 'bench/python/requirements-speed.txt')],
            { stdio: 'inherit' },
          )
        : mk;
    if (pip.status !== 0) return { error: 'could not create .bench/venv' };
  }
  const args = [
    join(root, 'bench/python/accuracy_sklearn.py'),
    '--data',
    c.file,
    '--date-col',
    c.columns.date,
    '--target-col',
    c.columns.target,
    '--temp-col',
    c.columns.temperature,
    '--temp-scale',
    String(c.columns.temperatureScale ?? 1),
    '--covariates',
    (c.columns.covariates ?? []).join(','),
    '--frequency',
    c.frequency,
    '--holdout',
    String(holdout),
  ];
  const r = spawnSync(python, args, {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { error: `scikit-learn peer failed: ${r.stderr.slice(-500)}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
    chosen: string;
    mae: number;
    sklearn: string;
    seconds: number;
    families: Record<string, { mae: number }>;
    holdout: { mae: number } | null;
  };
  const perFamily = Object.fromEntries(Object.entries(out.families).map(([k, v]) => [k, v.mae]));
  return {
    family: out.chosen,
    mae: out.mae,
    perFamily,
    sklearn: out.sklearn,
    seconds: out.seconds,
    holdout: out.holdout,
  };
}

/** Runs the accuracy benchmark; returns the per-dataset results and a Markdown table. */
export async function benchAccuracy(
  options: AccuracyBenchOptions = {},
): Promise<{ results: AccuracyResult[]; markdown: string }> {
  const root = options.root ?? resolve(__dirname, '..', '..', '..');
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const results: AccuracyResult[] = [];
  for (const c of cases(root)) {
    log(`${c.name}: ours`);
    const series = await loadDataset(c.file, c.columns);
    const t0 = performance.now();
    const { report } = runExperiment(series, { folds: 5, holdout: 0, seed: 0 });
    const seconds = (performance.now() - t0) / 1000;
    const perFamily = Object.fromEntries(
      report.families.filter((f) => f.best).map((f) => [f.family, f.best!.cv.mae]),
    );
    const failed = Object.fromEntries(
      report.families.filter((f) => !f.best).map((f) => [f.family, f.error ?? 'failed']),
    );
    log(`${c.name}: scikit-learn`);
    const peer = options.noPeer ? null : runPeer(root, c);
    const h = Math.floor(series.dates.length / 6);
    log(`${c.name}: holdout check (last ${h} rows)`);
    const held = runExperiment(series, { folds: 5, holdout: h, seed: 0 }).report;
    const peerHeld = options.noPeer ? null : runPeer(root, c, h);
    results.push({
      holdout: {
        rows: h,
        ours: { family: held.chosen.family, mae: held.holdout!.metrics.mae },
        peer:
          peerHeld && 'holdout' in peerHeld && peerHeld.holdout
            ? { family: peerHeld.family, mae: peerHeld.holdout.mae }
            : null,
        seasonalNaive: held.baselines.holdout!.seasonalNaive.mae,
        lastValue: held.baselines.holdout!.lastValue.mae,
      },
      dataset: c.name,
      rows: series.dates.length,
      target: c.target,
      ours: {
        family: report.chosen.family,
        mae: report.chosen.cv.mae,
        params: report.chosen.params,
        features: report.chosen.features,
        seconds,
        perFamily,
        failed,
      },
      seasonalNaive: report.baselines.cv.seasonalNaive.mae,
      lastValue: report.baselines.cv.lastValue.mae,
      peer,
    });
  }
  const lines = [
    '5 expanding folds (TimeSeriesSplit), one-step-ahead, MAE pooled over all test rows; chosen = family with the lowest CV MAE.',
    '',
    '| dataset | rows | ours: chosen | ours MAE | target | scikit-learn: chosen | scikit-learn MAE | seasonal naive | last value | ours (s) | scikit-learn (s) |',
    '|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const p = r.peer && 'mae' in r.peer ? r.peer : null;
    lines.push(
      `| ${r.dataset} | ${r.rows} | ${r.ours.family} | ${r.ours.mae.toFixed(1)} | <= ${r.target} | ${p ? `${p.family} (${p.sklearn})` : ((r.peer as { error: string } | null)?.error ?? 'skipped')} | ${p ? p.mae.toFixed(1) : '-'} | ${r.seasonalNaive.toFixed(1)} | ${r.lastValue.toFixed(1)} | ${r.ours.seconds.toFixed(1)} | ${p ? p.seconds.toFixed(1) : '-'} |`,
    );
  }
  lines.push(
    '',
    'Selection-free check: model chosen by 5-fold CV on the rows before the last n/6, refit on them, scored once on those last rows.',
    '',
    '| dataset | holdout rows | ours: chosen | ours MAE | scikit-learn: chosen | scikit-learn MAE | seasonal naive | last value |',
    '|---|---:|---|---:|---|---:|---:|---:|',
  );
  for (const r of results) {
    const h = r.holdout;
    lines.push(
      `| ${r.dataset} | ${h.rows} | ${h.ours.family} | ${h.ours.mae.toFixed(1)} | ${h.peer?.family ?? '-'} | ${h.peer ? h.peer.mae.toFixed(1) : '-'} | ${h.seasonalNaive.toFixed(1)} | ${h.lastValue.toFixed(1)} |`,
    );
  }
  lines.push('', 'Per family (ours / scikit-learn peer, CV MAE):');
  for (const r of results) {
    const p = r.peer && 'perFamily' in r.peer ? r.peer.perFamily : {};
    const failed = Object.entries(r.ours.failed).map(([k, e]) => `${k} FAILED (${e})`);
    lines.push(
      `- ${r.dataset}: ours ${[...Object.entries(r.ours.perFamily).map(([k, v]) => `${k} ${v.toFixed(1)}`), ...failed].join(', ')}; scikit-learn ${
        Object.entries(p)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ') || '-'
      }`,
    );
  }
  return { results, markdown: lines.join('\n') };
}

if (require.main === module) {
  benchAccuracy({ noPeer: process.argv.includes('--no-peer') })
    .then(({ markdown }) => process.stdout.write(`${markdown}\n`))
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    });
}
