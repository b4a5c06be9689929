import { describe, expect, it } from 'vitest';
import { liveMaeAlarm } from './live-alarm';

const policy = { ratio: 1.5, minLabels: 20 };
const seen = { window: 'last100', n: 40, holdoutMae: 10 };

describe('liveMaeAlarm', () => {
  it('alarms when live MAE exceeds ratio x holdout MAE on enough actuals, naming the numbers', () => {
    const v = liveMaeAlarm({ ...seen, mae: 15.5 }, policy);
    expect(v.alarm).toBe(true);
    expect(v.reason).toBe(
      'live MAE 15.5 over last100 (40 actuals) is 1.55x the holdout MAE 10, above the limit 1.5x',
    );
  });

  it('stays quiet at or under the limit', () => {
    expect(liveMaeAlarm({ ...seen, mae: 15 }, policy).alarm).toBe(false);
    expect(liveMaeAlarm({ ...seen, mae: 9 }, policy)).toMatchObject({
      alarm: false,
      reason: expect.stringContaining('within 1.5x') as unknown,
    });
  });

  it('does not judge on too few actuals', () => {
    expect(liveMaeAlarm({ ...seen, n: 19, mae: 100 }, policy)).toEqual({
      alarm: false,
      reason: '19 actuals over last100, fewer than 20',
    });
    expect(liveMaeAlarm({ ...seen, n: 0, mae: null }, policy).alarm).toBe(false);
    expect(liveMaeAlarm({ ...seen, n: 20, mae: 100 }, policy).alarm).toBe(true);
  });

  it('does not alarm without a positive holdout MAE, or when turned off', () => {
    expect(liveMaeAlarm({ ...seen, holdoutMae: null, mae: 100 }, policy).alarm).toBe(false);
    expect(liveMaeAlarm({ ...seen, holdoutMae: 0, mae: 100 }, policy).alarm).toBe(false);
    expect(liveMaeAlarm({ ...seen, mae: 100 }, { ...policy, ratio: 0 }).alarm).toBe(false);
  });
});
