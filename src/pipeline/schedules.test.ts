import { describe, expect, it } from 'vitest';
import { checkCron, checkScheduleId, parseEvery, scheduleSpec } from './schedules';

describe('schedule specs', () => {
  it('converts intervals with a unit to milliseconds', () => {
    expect(parseEvery('90s')).toBe(90_000);
    expect(parseEvery('30m')).toBe(1_800_000);
    expect(parseEvery(' 6h ')).toBe(21_600_000);
    expect(parseEvery('1d')).toBe(86_400_000);
    expect(parseEvery('2w')).toBe(1_209_600_000);
  });

  it('rejects intervals without a unit, with a fraction, zero or in words', () => {
    for (const bad of ['2', '1.5h', '0s', 'daily', '1 day', '-1d', '']) {
      expect(() => parseEvery(bad), bad).toThrow(`invalid --every ${JSON.stringify(bad)}`);
    }
  });

  it('accepts 5 to 7 cron fields and the @ shorthands', () => {
    for (const ok of [
      '0 3 * * *',
      '*/15 * * * MON-FRI',
      '0 0 1 1 * 2027',
      '30 0 3 * * 1 *',
      '@daily',
      '@every 6h',
    ]) {
      expect(checkCron(ok)).toBe(ok);
    }
  });

  it('rejects cron expressions with the wrong number of fields or odd characters', () => {
    for (const bad of ['* *', 'every monday', '0 3 * * * * * *', '0 3 * * $', '@fortnightly']) {
      expect(() => checkCron(bad), bad).toThrow(`invalid --cron ${JSON.stringify(bad)}`);
    }
  });

  it('builds a cron or an interval spec and describes it as given', () => {
    expect(scheduleSpec({ cron: ' 0 3 * * 1 ' })).toEqual({
      spec: { cronExpressions: ['0 3 * * 1'] },
      text: 'cron 0 3 * * 1',
    });
    expect(scheduleSpec({ every: '1d' })).toEqual({
      spec: { intervals: [{ every: 86_400_000 }] },
      text: 'every 1d',
    });
  });

  it('allows schedule ids of letters, digits and ._:- only', () => {
    expect(checkScheduleId('nightly-retrain_v2.1')).toBe('nightly-retrain_v2.1');
    expect(() => checkScheduleId('')).toThrow('invalid schedule id ""');
    expect(() => checkScheduleId('a/b')).toThrow('invalid schedule id "a/b"');
    expect(() => checkScheduleId('x'.repeat(201))).toThrow('invalid schedule id');
  });
});
