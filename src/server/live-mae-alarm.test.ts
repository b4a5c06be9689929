import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster } from '../ml';
import { syntheticSeries } from '../ml/testing';
import type { RetrainRequest } from '../retraining';
import { LiveMaeAlarm } from './live-mae-alarm';
import type { WindowQuality } from './live-monitor';
import { ModelHolder, toServingModel } from './model-holder';

const history = syntheticSeries(48);
const forecaster = fitForecaster(history, {
  family: 'ridge',
  params: { alpha: 1 },
  seed: 1,
  coverage: 0.9,
});

async function holderOf(version: () => string) {
  const ref = () => ({
    name: 'm',
    version: version(),
    source: 's',
    digest: version().repeat(64).slice(0, 64),
    runId: 'r',
    aliases: [],
    tags: { holdout_mae: '10' },
  });
  const holder = new ModelHolder(
    'production',
    {
      resolve: () => Promise.resolve(ref()),
      fetch: (r) =>
        Promise.resolve(
          toServingModel({ ref: r, dir: '/nowhere', digest: r.digest, forecaster, history }),
        ),
    },
    createLogger('silent'),
  );
  await holder.refresh();
  return holder;
}

function setup(version = () => '3', decides?: () => boolean) {
  const quality = new Map<string, WindowQuality>();
  const calls: RetrainRequest[] = [];
  let fail = false;
  const make = async () => {
    const holder = await holderOf(version);
    const alarm = new LiveMaeAlarm(
      holder,
      (v) => [quality.get(v) ?? { window: 'last100', n: 0, mae: null, rmse: null, coverage: null }],
      createLogger('silent'),
      {
        ratio: 1.5,
        minLabels: 20,
        window: 'last100',
        ...(decides ? { decides } : {}),
        retrain: (req) => {
          calls.push(req);
          return fail
            ? Promise.reject(new Error('temporal down'))
            : Promise.resolve({
                workflowId: `retrain-${req.episodeKey}`,
                runId: 'x',
                started: true,
              });
        },
      },
    );
    return { holder, alarm };
  };
  const set = (v: string, n: number, mae: number) =>
    quality.set(v, { window: 'last100', n, mae, rmse: mae, coverage: null });
  return { make, set, calls, failNext: (f: boolean) => (fail = f) };
}

describe('LiveMaeAlarm', () => {
  it('retrains once per episode when live MAE passes 1.5x the holdout MAE, with its own reason', async () => {
    const s = setup();
    const { alarm } = await s.make();
    s.set('3', 40, 12);
    await alarm.check();
    expect(s.calls).toHaveLength(0);
    s.set('3', 40, 16);
    await alarm.check(new Date('2026-01-02T03:04:05Z'));
    await alarm.check();
    await alarm.check();
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]).toEqual({
      episodeKey: 'live-mae-m-v3-2026-01-02T03-04-05-000Z',
      reason:
        'live quality of model v3: live MAE 16 over last100 (40 actuals) is 1.6x the holdout MAE 10, above the limit 1.5x',
    });
    expect(alarm.openEpisode).toBe('live-mae-m-v3-2026-01-02T03-04-05-000Z');
    // recovered: the episode closes; a new alarm is a new episode
    s.set('3', 40, 11);
    await alarm.check();
    expect(alarm.openEpisode).toBeUndefined();
    s.set('3', 40, 20);
    await alarm.check(new Date('2026-01-03T00:00:00Z'));
    expect(s.calls.map((c) => c.episodeKey)).toEqual([
      'live-mae-m-v3-2026-01-02T03-04-05-000Z',
      'live-mae-m-v3-2026-01-03T00-00-00-000Z',
    ]);
  });

  it('leaves retraining to the leading process', async () => {
    let leads = false;
    const s = setup(undefined, () => leads);
    const { alarm } = await s.make();
    s.set('3', 40, 30);
    expect((await alarm.check())?.alarm).toBe(true);
    expect(s.calls).toHaveLength(0);
    expect(alarm.openEpisode).toBeUndefined();
    leads = true;
    await alarm.check();
    expect(s.calls).toHaveLength(1);
  });

  it('waits for enough actuals', async () => {
    const s = setup();
    const { alarm } = await s.make();
    s.set('3', 19, 100);
    expect((await alarm.check())?.alarm).toBe(false);
    expect(s.calls).toHaveLength(0);
  });

  it('tries again on the next check when the trigger failed', async () => {
    const s = setup();
    const { alarm } = await s.make();
    s.set('3', 40, 30);
    s.failNext(true);
    await alarm.check();
    expect(alarm.openEpisode).toBeUndefined();
    s.failNext(false);
    await alarm.check();
    await alarm.check();
    expect(s.calls).toHaveLength(2);
    expect(alarm.openEpisode).toMatch(/^live-mae-m-v3-/);
  });

  it('judges the version now in production: a new version is a new episode', async () => {
    let version = '3';
    const s = setup(() => version);
    const { holder, alarm } = await s.make();
    s.set('3', 40, 30);
    s.set('4', 40, 30);
    await alarm.check();
    version = '4';
    await holder.refresh();
    await alarm.check();
    await alarm.check();
    expect(s.calls.map((c) => c.episodeKey.split('-').slice(0, 4).join('-'))).toEqual([
      'live-mae-m-v3',
      'live-mae-m-v4',
    ]);
  });
});
