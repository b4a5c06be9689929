/**
 * Cost of the prediction log, with a real PostgreSQL started by the stack on a free port:
 * - record(): the only part on the request path (synchronous push to the buffer), ns per call;
 * - write throughput: rows per second reaching the `predictions` table in batches of 500.
 * Reported, not asserted.
 *
 *   npx tsc -p bench/tsconfig.prediction-log.json && node .bench/build-plog/bench/prediction-log.js [--rows N]
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { migrate } from '../src/db/migrations';
import { createPool } from '../src/db/pool';
import { PredictionLog } from '../src/db/prediction-log';
import type { PredictionRecord } from '../src/db/predictions';
import { startTestStack } from '../test/helpers/stack';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rows');
  const rows = at > 0 ? Number(process.argv[at + 1]) : 200_000;
  const stack = await startTestStack(['postgres']);
  const pool = createPool(stack.config.postgres.url);
  try {
    await migrate(pool);
    const made: PredictionRecord[] = Array.from({ length: rows }, (_, i) => ({
      id: randomUUID(),
      time: new Date(),
      client: 'bench',
      route: '/v1/predict',
      modelName: 'ice-cream-sales',
      modelVersion: '1',
      modelDigest: 'sha256:0',
      arm: 'production',
      date: '2026-07-01',
      horizon: 0,
      inputs: { temperature: 20 + (i % 15) },
      prediction: 100 + (i % 50),
      lower: 90,
      upper: 110,
    }));
    const log = new PredictionLog(pool, { maxBuffered: rows });
    const t0 = performance.now();
    for (const r of made) log.record(r);
    const t1 = performance.now();
    await log.close(600_000);
    const t2 = performance.now();
    const count = (await pool.query<{ n: string }>('SELECT count(*) AS n FROM predictions'))
      .rows[0]!.n;
    console.log(`rows                 ${rows} (in the table: ${count}, dropped: ${log.dropped})`);
    console.log(`record() per call    ${(((t1 - t0) * 1e6) / rows).toFixed(0)} ns`);
    console.log(
      `written per second   ${Math.round(rows / ((t2 - t0) / 1000))} rows/s (batches of 500)`,
    );
  } finally {
    await pool.end();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
