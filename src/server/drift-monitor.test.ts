import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster } from '../ml';
import { syntheticSeries } from '../ml/testing';
import type { RetrainTrigger } from '../retraining';
import { DriftMonitor } from './drift-monitor';
import { createMetrics } from './metrics';
import { ModelHolder, toServingModel } from './model-holder';

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

describe('DriftMonitor', () => {
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
