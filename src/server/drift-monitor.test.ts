import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster, forecast } from '../ml';
import { trainingReference, type FeatureRow } from '../ml/serving';
import { syntheticSeries } from '../ml/testing';
import type { RetrainTrigger } from '../retraining';
import { DriftMonitor } from './drift-monitor';
import { createMetrics } from './metrics';
import { ModelHolder, toServingModel, type ServingModel } from './model-holder';

const full = syntheticSeries(100);
const history = {
  ...full,
  dates: full.dates.slice(0, 60),
  target: full.target.slice(0, 60),
  temperature: full.temperature.slice(0, 60),
  covariates: Object.fromEntries(
    Object.entries(full.covariates).map(([k, v]) => [k, v.slice(0, 60)]),
  ),
};
const model = toServingModel({
  ref: { name: 'm', version: '3', source: 's', digest: 'd'.repeat(64), runId: 'r', aliases: [] },
  dir: '/nowhere',
  digest: 'd'.repeat(64),
  forecaster: fitForecaster(history, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  }),
  history,
});

async function monitor(retrain?: RetrainTrigger, decides?: () => boolean) {
  const holder = new ModelHolder(
    'production',
    {
      resolve: () =>
        Promise.resolve(
          model && {
            name: 'm',
            version: '3',
            source: 's',
            digest: model.digest,
            runId: 'r',
            aliases: [],
          },
        ),
      fetch: () => Promise.resolve(model),
    },
    createLogger('silent'),
  );
  await holder.refresh();
  const metrics = createMetrics({ defaultMetrics: false });
  const m = new DriftMonitor(holder, metrics, createLogger('silent'), {
    sustainedChecks: 3,
    thresholds: { minCurrent: 24 },
    retrain,
    ...(decides ? { decides } : {}),
  });
  return { m, metrics };
}

/** Months 60..99 as requests: their temperatures shifted by `shift`, their sales as predictions. */
function replay(m: DriftMonitor, shift: number) {
  for (let i = 60; i < 100; i++)
    m.observe(full.dates[i]!, full.temperature[i]! + shift, full.target[i]!);
}

/** The same model with its bundle's training reference. */
const withReference = { ...model, reference: trainingReference(model.forecaster, history) };

async function monitorOf(m: ServingModel, retrain?: RetrainTrigger) {
  const holder = new ModelHolder(
    'production',
    {
      resolve: () =>
        Promise.resolve({
          name: 'm',
          version: '3',
          source: 's',
          digest: m.digest,
          runId: 'r',
          aliases: [],
        }),
      fetch: () => Promise.resolve(m),
    },
    createLogger('silent'),
  );
  await holder.refresh();
  const metrics = createMetrics({ defaultMetrics: false });
  const monitor = new DriftMonitor(holder, metrics, createLogger('silent'), {
    sustainedChecks: 1,
    thresholds: { minCurrent: 24 },
    retrain,
  });
  return { m: monitor, metrics };
}

describe('DriftMonitor', () => {
  it("compares the features the model computed for requests with the bundle's training reference", async () => {
    const calls: string[] = [];
    const { m, metrics } = await monitorOf(withReference, ({ reason }) => {
      calls.push(reason);
      return Promise.resolve({ workflowId: 'w', runId: 'r', started: true });
    });
    // months 60..99 as the predict route asks: features computed with the prediction; the rain
    // covariate is far wetter than in training, the temperature as it was
    const rows: FeatureRow[] = [];
    for (let i = 60; i < 100; i++)
      rows.push({
        date: full.dates[i]!,
        temperature: full.temperature[i]!,
        covariates: { rain: full.covariates.rain![i]! + 150 },
      });
    const preds = forecast(withReference.forecaster, full, rows, { features: true });
    preds.forEach((p, i) =>
      m.observe(
        p.date,
        rows[i]!.temperature,
        p.prediction,
        p.features,
        withReference.forecaster.featureNames,
      ),
    );
    const snap = await m.check();
    const byName = new Map(snap.features.map((f) => [f.feature, f]));
    expect(byName.get('cov_rain')).toMatchObject({ statistic: 'ks', drifted: true });
    expect(byName.get('cov_rain')!.pValue!).toBeLessThan(1e-6);
    expect(byName.get('temperature')!.drifted).toBe(false);
    expect(byName.get('temp_lag_1')!.drifted).toBe(false);
    expect(byName.has('month_2')).toBe(false);
    expect(await metrics.registry.metrics()).toContain(
      'icecream_drift_detected{feature="cov_rain"} 1',
    );
    // a feature's drift is reported; only the temperature and the prediction decide on retraining
    expect(calls.join(';')).not.toContain('cov_rain');
  });

  it('without a training reference, compares the temperature and the prediction only', async () => {
    const { m } = await monitorOf(model);
    replay(m, 0);
    const snap = await m.check();
    expect(snap.features.map((f) => f.feature)).toEqual(['temperature', 'prediction']);
  });

  it('finds no temperature drift when requests look like the training history', async () => {
    const { m } = await monitor();
    replay(m, 0);
    const snap = await m.check();
    expect(snap.features.find((f) => f.feature === 'temperature')).toMatchObject({
      statistic: 'ks',
      drifted: false,
    });
  });

  it('detects a warmer climate, exports it, and retrains once per sustained episode', async () => {
    const calls: { reason: string; key: string }[] = [];
    const { m, metrics } = await monitor(({ reason, episodeKey }) => {
      calls.push({ reason, key: episodeKey });
      return Promise.resolve({ workflowId: `retrain-${episodeKey}`, runId: 'r', started: true });
    });
    replay(m, 12);
    for (let k = 0; k < 5; k++) await m.check();
    const temperature = m.current.features.find((f) => f.feature === 'temperature')!;
    expect(temperature.drifted).toBe(true);
    expect(temperature.pValue).toBeLessThan(0.05);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.reason).toContain('temperature: KS');
    expect(calls[0]!.key).toBe(m.openEpisode);
    expect(await metrics.registry.metrics()).toContain(
      'icecream_drift_detected{feature="temperature"} 1',
    );
    // back to normal closes the episode; a new one later retrains again
    replay(m, 0);
    await m.check();
    expect(m.openEpisode).toBeUndefined();
  });

  it('does not decide on fewer periods than the minimum', async () => {
    const { m } = await monitor();
    for (let i = 60; i < 70; i++) m.observe(full.dates[i]!, full.temperature[i]! + 20, 0);
    const snap = await m.check();
    expect(snap.features.every((f) => !f.drifted)).toBe(true);
  });

  it('leaves retraining to the deciding process, which opens the episode once it decides', async () => {
    const calls: string[] = [];
    let leads = false;
    const { m } = await monitor(
      ({ episodeKey }) => {
        calls.push(episodeKey);
        return Promise.resolve({ workflowId: `retrain-${episodeKey}`, runId: 'r', started: true });
      },
      () => leads,
    );
    replay(m, 12);
    for (let k = 0; k < 4; k++) await m.check();
    expect(m.current.features.find((f) => f.feature === 'temperature')?.drifted).toBe(true);
    expect(calls).toEqual([]);
    expect(m.openEpisode).toBeUndefined();
    leads = true;
    await m.check();
    await m.check();
    expect(calls).toEqual([m.openEpisode]);
  });
});
