/**
 * Child process of bench/speed.ts: fits one of our models (or ml-random-forest) several times
 * on a dataset file and prints one JSON line { times, mae, maxRssMB }. A separate process per
 * measurement keeps RSS peaks and JIT state from leaking between models and sizes.
 *
 *   node .bench/build/bench/speed-worker.js <model: rf|gbm|mlrf> <data file> <rows> <runs> <params JSON>
 */
import { RandomForestRegression } from 'ml-random-forest';
import { fitRandomForest } from '../src/ml/forest';
import { fitGradientBoosting } from '../src/ml/gbm';
import { COLS, readData } from './speed-data';

function main(): void {
  const [model, file, rowsArg, runsArg, paramsArg] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const runs = Number(runsArg);
  const params = JSON.parse(paramsArg ?? '{}') as Record<string, number | boolean>;
  const d = readData(file!, rows);
  const times: number[] = [];
  const cpu: number[] = [];
  let c0 = process.cpuUsage();
  const cpuSince = (): number => {
    const d = process.cpuUsage(c0);
    return (d.user + d.system) / 1e6;
  };
  let pred: Float64Array | number[] = [];
  let maeSum = 0;
  for (let r = 0; r < runs; r++) {
    // Run r uses seed r (the peer uses random_state r): the MAE reported is the mean over seeds.
    const seeded = { seed: r, ...params };
    const t0 = performance.now();
    c0 = process.cpuUsage();
    if (model === 'rf') {
      const m = fitRandomForest(d.X, d.y, seeded);
      times.push((performance.now() - t0) / 1000);
      cpu.push(cpuSince());
      pred = m.predict(d.XTest);
    } else if (model === 'gbm') {
      const m = fitGradientBoosting(d.X, d.y, seeded);
      times.push((performance.now() - t0) / 1000);
      cpu.push(cpuSince());
      pred = m.predict(d.XTest);
    } else if (model === 'mlrf') {
      const X: number[][] = [];
      for (let i = 0; i < rows; i++)
        X.push(Array.from(d.X.data.subarray(i * COLS, (i + 1) * COLS)));
      const m = new RandomForestRegression({ ...seeded, seed: r + 3, noOOB: true });
      const t1 = performance.now();
      c0 = process.cpuUsage();
      m.train(X, Array.from(d.y));
      times.push((performance.now() - t1) / 1000);
      cpu.push(cpuSince());
      const XT: number[][] = [];
      for (let i = 0; i < d.yTest.length; i++)
        XT.push(Array.from(d.XTest.data.subarray(i * COLS, (i + 1) * COLS)));
      pred = m.predict(XT);
    } else {
      throw new Error(`unknown model ${model}`);
    }
    let s = 0;
    for (let i = 0; i < d.yTest.length; i++) s += Math.abs(pred[i]! - d.yTest[i]!);
    maeSum += s / d.yTest.length;
  }
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ times, cpu, mae: maeSum / runs, maxRssMB })}\n`);
}

main();
