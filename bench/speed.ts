/**
 * Speed and memory benchmark of the tree models, side by side with their peers in the same run:
 * our random forest vs scikit-learn's RandomForestRegressor (n_jobs=1), our gradient boosting vs
 * HistGradientBoostingRegressor (OMP_NUM_THREADS=1), and our forest vs ml-random-forest on 2,000
 * rows. Every fit runs in a child process (ours: node; scikit-learn: .bench/venv python), several
 * times; the table reports median fit seconds, the ratio ours / peer, test MAE on 10,000 held-out
 * rows of the same synthetic data, and peak RSS of the child.
 *
 *   npx tsc -p bench/tsconfig.json && node .bench/build/bench/speed.js [--million [--million-forest-peer]] [--runs N] [--trees N] [--mlrf-trees N] [--sizes 10000,100000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COLS, TEST_ROWS, ensureData } from './speed-data';

export interface SpeedBenchOptions {
  /** Repository root (holds bench/ and .bench/); default: the nearest parent of this file that has bench/python/speed_sklearn.py. */
  readonly root?: string;
  /** Training sizes; default [10_000, 100_000], plus 1_000_000 when `million`. */
  readonly sizes?: readonly number[];
  readonly million?: boolean;
  /** Also run scikit-learn's random forest at 1M rows (about 45 s per tree); default false. */
  readonly millionForestPeer?: boolean;
  /** Fits per measurement (median reported); default 3. 1M rows always use 1. */
  readonly runs?: number;
  /** Trees in both random forests; default 10 (scikit-learn takes ~3 s per tree at 100k rows; the ratio does not depend on the count). */
  readonly forestTrees?: number;
  /** Trees for the 2,000-row comparison with ml-random-forest (slow: one run); default 10. */
  readonly mlrfTrees?: number;
  /** Progress lines (to stderr by default). */
  readonly log?: (line: string) => void;
}

interface Measure {
  readonly times: number[];
  readonly cpu: number[];
  readonly mae: number;
  readonly maxRssMB: number;
  readonly n_iter?: number;
}

/** Runs the benchmark and returns a Markdown report. Throws if a child process fails. */
export async function runSpeedBench(options: SpeedBenchOptions = {}): Promise<string> {
  const root = options.root ?? findRoot(__dirname);
  const dir = join(root, '.bench');
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const runs = options.runs ?? 3;
  const sizes =
    options.sizes ?? (options.million ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]);
  const trees = options.forestTrees ?? 10;
  const mlrfTrees = options.mlrfTrees ?? 10;
  const python = ensureVenv(root, log);
  const worker = join(__dirname, 'speed-worker.js');

  const ours = (model: string, rows: number, r: number, params: object): Promise<Measure> =>
    runChild(
      process.execPath,
      [
        '--max-old-space-size=4096',
        worker,
        model,
        ensureData(dir, rows),
        String(rows),
        String(r),
        JSON.stringify(params),
      ],
      process.env,
      `${model} ${rows}`,
    );
  const sk = (model: string, rows: number, r: number, params: object): Promise<Measure> =>
    runChild(
      python,
      [
        join(root, 'bench/python/speed_sklearn.py'),
        '--data',
        ensureData(dir, rows),
        '--rows',
        String(rows),
        '--test',
        String(TEST_ROWS),
        '--cols',
        String(COLS),
        '--model',
        model,
        '--runs',
        String(r),
        '--params',
        JSON.stringify(params),
      ],
      { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      `sklearn ${model} ${rows}`,
    );

  const lines: string[] = [];
  lines.push(
    `Friedman #1 with ${COLS} features (5 informative), test MAE on ${TEST_ROWS} held-out rows (mean over the N runs, run r seeded r on both sides); one thread; median wall-clock and CPU fit seconds of N runs (CPU time is the steadier figure on a shared machine); peak RSS of the measuring process.`,
    '',
  );
  lines.push(
    '| model | rows | N | peer | ours (s) | peer (s) | ours / peer | ours CPU (s) | peer CPU (s) | CPU ours / peer | MAE ours | MAE peer | RSS ours (MB) | RSS peer (MB) |',
  );
  lines.push('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const row = (
    name: string,
    rows: number,
    r: number,
    a: Measure,
    peer: string,
    b: Measure | null,
  ): void => {
    const ma = median(a.times);
    const ca = median(a.cpu);
    const ratio = (x: number, y: number): string =>
      x / y < 0.01 ? (x / y).toExponential(2) : (x / y).toFixed(3);
    const peerCells = b
      ? [
          median(b.times).toFixed(3),
          ratio(ma, median(b.times)),
          null,
          median(b.cpu).toFixed(3),
          ratio(ca, median(b.cpu)),
          b.mae.toFixed(4),
          b.maxRssMB.toFixed(0),
        ]
      : ['not run', '', null, '', '', '', ''];
    const [pt, pr, , pc, pcr, pm, prss] = peerCells;
    lines.push(
      `| ${name} | ${rows.toLocaleString('en-US')} | ${r} | ${peer} | ${ma.toFixed(3)} | ${pt} | ${pr} | ${ca.toFixed(3)} | ${pc} | ${pcr} | ${a.mae.toFixed(4)} | ${pm} | ${a.maxRssMB.toFixed(0)} | ${prss} |`,
    );
    log(lines[lines.length - 1]!);
  };

  for (const rows of sizes) {
    const r = rows >= 1_000_000 ? 1 : runs;
    log(`random forest, ${rows} rows, ${trees} trees`);
    const forestPeer =
      rows < 1_000_000 || options.millionForestPeer
        ? await sk('rf', rows, r, { n_estimators: trees })
        : null;
    row(
      `random forest (${trees} trees)`,
      rows,
      r,
      await ours('rf', rows, r, { nTrees: trees }),
      'scikit-learn RandomForestRegressor',
      forestPeer,
    );
    log(`gradient boosting, ${rows} rows`);
    const g = await ours('gbm', rows, r, {});
    const h = await sk('hgb', rows, r, {});
    row(
      'gradient boosting (defaults)',
      rows,
      r,
      g,
      `scikit-learn HistGradientBoostingRegressor (${h.n_iter ?? '?'} iter)`,
      h,
    );
  }
  log(`random forest vs ml-random-forest, 2000 rows, ${mlrfTrees} trees`);
  const mlrfParams = {
    nEstimators: mlrfTrees,
    maxFeatures: COLS,
    replacement: false,
    useSampleBagging: true,
    seed: 3,
  };
  // Ours takes milliseconds here: more runs so that the median is a warmed-up fit, not JIT compilation.
  const smallRuns = Math.max(runs, 9);
  row(
    `random forest (${mlrfTrees} trees)`,
    2000,
    smallRuns,
    await ours('rf', 2000, smallRuns, { nTrees: mlrfTrees }),
    'ml-random-forest 2.1.0',
    await ours('mlrf', 2000, 1, mlrfParams),
  );
  return lines.join('\n');
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bench/python/speed_sklearn.py'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no bench/python/speed_sklearn.py above ${from}; pass options.root`);
  }
}

function ensureVenv(root: string, log: (l: string) => void): string {
  const python = join(root, '.bench/venv/bin/python');
  if (existsSync(python)) return python;
  log('creating .bench/venv from bench/python/requirements-speed.txt');
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
  };
  run('python3', ['-m', 'venv', join(root, '.bench/venv')]);
  run(join(root, '.bench/venv/bin/pip'), [
    'install',
    '--quiet',
    '-r',
    join(root, 'bench/python/requirements-speed.txt'),
  ]);
  return python;
}

/** Runs one measuring child process and parses the JSON line it prints last. */
function runChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<Measure> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${what} failed (exit ${code}): ${err.slice(-2000)}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as Measure);
      } catch (e) {
        reject(new Error(`${what} printed no result: ${out.slice(-500)}`, { cause: e }));
      }
    });
  });
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const runs = flag('--runs');
  const trees = flag('--trees');
  const mlrf = flag('--mlrf-trees');
  const sizes = flag('--sizes');
  runSpeedBench({
    million: process.argv.includes('--million'),
    millionForestPeer: process.argv.includes('--million-forest-peer'),
    ...(runs !== undefined && { runs: Number(runs) }),
    ...(trees !== undefined && { forestTrees: Number(trees) }),
    ...(mlrf !== undefined && { mlrfTrees: Number(mlrf) }),
    ...(sizes !== undefined && { sizes: sizes.split(',').map(Number) }),
  }).then(
    (md) => process.stdout.write(`${md}\n`),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
