import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fitForecaster, serializeForecaster } from '../ml';
import { BundleIntegrityError, bundleFiles, readBundle, writeBundle } from './bundle';
import { syntheticSeries } from '../ml/testing';

describe('model bundle', () => {
  let dir: string;
  const series = syntheticSeries(60);
  const forecaster = fitForecaster(series, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips the forecaster and the history', () => {
    const digest = writeBundle(dir, serializeForecaster(forecaster), series, { runId: 'abc' });
    const loaded = readBundle(dir);
    expect(loaded.digest).toBe(digest);
    expect(serializeForecaster(loaded.forecaster)).toBe(serializeForecaster(forecaster));
    expect(Array.from(loaded.history.target)).toEqual(Array.from(series.target));
    expect(fs.readFileSync(path.join(dir, bundleFiles.mlmodel), 'utf8')).toContain('run_id: abc');
  });

  it('refuses a bundle whose history was altered after packaging', () => {
    writeBundle(dir, serializeForecaster(forecaster), series);
    const history = path.join(dir, bundleFiles.history);
    fs.writeFileSync(
      history,
      fs.readFileSync(history, 'utf8').replace('"target":[', '"target":[1,'),
    );
    expect(() => readBundle(dir)).toThrow(BundleIntegrityError);
    expect(() => readBundle(dir)).toThrow(/history\.json does not match/);
  });

  it('carries the training reference, and reads a bundle written before it without one', () => {
    writeBundle(dir, serializeForecaster(forecaster), series);
    const ref = readBundle(dir).reference!;
    expect(ref.features.map((f) => f.feature)).toContain('sales_lag_12');
    expect(ref.features.find((f) => f.feature === 'temperature')!.n).toBe(60);
    // an older bundle: no reference.json in the listing
    const listing = path.join(dir, bundleFiles.checksums);
    const lines = fs.readFileSync(listing, 'utf8').split('\n');
    fs.writeFileSync(listing, lines.filter((l) => !l.endsWith(bundleFiles.reference)).join('\n'));
    fs.rmSync(path.join(dir, bundleFiles.reference));
    const old = readBundle(dir);
    expect(old.reference).toBeUndefined();
    expect(serializeForecaster(old.forecaster)).toBe(serializeForecaster(forecaster));
  });

  it('refuses a bundle without its checksum file', () => {
    writeBundle(dir, serializeForecaster(forecaster), series);
    fs.rmSync(path.join(dir, bundleFiles.checksums));
    expect(() => readBundle(dir)).toThrow(/checksums\.sha256 is missing/);
  });
});
