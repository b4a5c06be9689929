import { describe, expect, it } from 'vitest';
import { analyzeErrors, type ScoredRow } from './analysis';

const row = (date: string, actual: number, prediction: number, temperature: number): ScoredRow => ({
  date,
  actual,
  prediction,
  temperature,
  source: 'cv',
});

describe('analyzeErrors', () => {
  const rows = [
    row('2024-01-06', 10, 12, 3),
    row('2024-01-07', 20, 15, 7),
    row('2024-07-06', 50, 40, 31),
    row('2024-07-08', 30, 31, 28),
  ];
  const a = analyzeErrors(rows, 'daily');

  it('groups residuals by 5-degree temperature band with MAE and bias (actual - predicted)', () => {
    expect(a.byTemperatureBand).toEqual([
      { key: '0..5 C', n: 1, mae: 2, bias: -2 },
      { key: '5..10 C', n: 1, mae: 5, bias: 5 },
      { key: '25..30 C', n: 1, mae: 1, bias: -1 },
      { key: '30..35 C', n: 1, mae: 10, bias: 10 },
    ]);
  });

  it('groups by month and weekday (2024-01-06 was a Saturday)', () => {
    expect(a.byMonth).toEqual([
      { key: 'Jan', n: 2, mae: 3.5, bias: 1.5 },
      { key: 'Jul', n: 2, mae: 5.5, bias: 4.5 },
    ]);
    expect(a.byWeekday!.map((g) => g.key)).toEqual(['Sun', 'Mon', 'Sat']);
    expect(a.byWeekday!.find((g) => g.key === 'Sat')).toEqual({
      key: 'Sat',
      n: 2,
      mae: 6,
      bias: 4,
    });
  });

  it('lists the worst periods first and has no weekday breakdown for monthly data', () => {
    expect(a.worst.map((w) => w.date)).toEqual([
      '2024-07-06',
      '2024-01-07',
      '2024-01-06',
      '2024-07-08',
    ]);
    expect(a.worst[0]!.error).toBe(10);
    expect(analyzeErrors(rows, 'monthly').byWeekday).toBeNull();
  });
});
