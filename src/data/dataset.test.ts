import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetValidationError, findLeakingCovariates, japanColumns, loadDataset, parseDataset, type DatasetProblem } from './dataset';

const cols = { date: 'date', target: 'sales', temperature: 'temperature' };
const monthly = (n: number, f: (i: number) => string = (i) => `${200 + (i % 5) * 10}`) =>
  ['date,sales,temperature,rain', ...Array.from({ length: n }, (_, i) => `2020-${String(i + 1).padStart(2, '0')}-01,${f(i)},${10 + i},${i * 2}`)].join('\n');

function problemsOf(text: string, c = cols): DatasetProblem[] {
  try {
    parseDataset(text, c, 'test.csv');
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetValidationError);
    return (e as DatasetValidationError).problems;
  }
  throw new Error('expected a DatasetValidationError');
}

describe('parseDataset', () => {
  it('loads a valid monthly CSV with every other numeric column as a covariate', () => {
    const s = parseDataset(monthly(10), cols);
    expect(s.frequency).toBe('monthly');
    expect(s.dates[0]).toBe('2020-01-01');
    expect(Array.from(s.temperature.slice(0, 2))).toEqual([10, 11]);
    expect(Object.keys(s.covariates)).toEqual(['rain']);
  });

  it('accepts YYYY-MM dates and sorts rows by date', () => {
    const text = ['date,sales,temperature', ...[3, 1, 2, 4, 5, 6, 7, 8, 9].map((m) => `2021-0${m},${m * 10},${m}`)].join('\n');
    const s = parseDataset(text, cols);
    expect(s.dates.slice(0, 3)).toEqual(['2021-01-01', '2021-02-01', '2021-03-01']);
    expect(s.target[0]).toBe(10);
  });

  it('reports every bad row with its line number and reason in one error', () => {
    const lines = monthly(12).split('\n');
    lines[2] = '2020-02-31,210,11,2'; // impossible date
    lines[4] = '2020-03-01,230,13,6'; // duplicate of line 4's date (line 4 is 2020-03-01)
    lines[6] = '2020-06-01,-5,15,10'; // negative sales
    lines[8] = '2020-08-01,abc,17,14'; // non-numeric sales
    lines[9] = '2020-09-01,250,warm,16'; // non-numeric temperature
    const problems = problemsOf(lines.join('\n'));
    const byLine = (l: number) => problems.filter((p) => p.line === l).map((p) => p.reason).join(' | ');
    expect(byLine(3)).toMatch(/unparseable date/);
    expect(byLine(5)).toMatch(/duplicate date 2020-03-01 \(first on line 4\)/);
    expect(byLine(7)).toMatch(/negative sales/);
    expect(byLine(9)).toMatch(/non-numeric sales/);
    expect(byLine(10)).toMatch(/non-numeric temperature/);
    // the rows removed leave gaps, which are reported too
    expect(problems.some((p) => /gap in the monthly series/.test(p.reason))).toBe(true);
  });

  it('rejects a gap in a daily series naming the missing date', () => {
    const days = ['2020-01-01', '2020-01-02', '2020-01-04', '2020-01-05', '2020-01-06', '2020-01-07', '2020-01-08', '2020-01-09', '2020-01-10'];
    const text = ['date,sales,temperature', ...days.map((d, i) => `${d},${i * 3 + 1},20`)].join('\n');
    const problems = problemsOf(text);
    expect(problems).toEqual([{ line: 4, column: 'date', reason: expect.stringMatching(/no row for 2020-01-03/) as string }]);
  });

  it('rejects a missing column, naming it', () => {
    const problems = problemsOf(monthly(10), { ...cols, temperature: 'tmax' });
    expect(problems[0]).toMatchObject({ line: 1, column: 'tmax' });
  });

  it('rejects a constant target and too few rows', () => {
    expect(problemsOf(monthly(10, () => '100')).map((p) => p.reason).join()).toMatch(/constant target/);
    expect(problemsOf(monthly(3)).map((p) => p.reason).join()).toMatch(/too few valid rows: 3/);
  });

  it('rejects an empty value in a requested covariate', () => {
    const lines = monthly(10).split('\n');
    lines[5] = '2020-05-01,220,14,';
    const problems = problemsOf(lines.join('\n'), { ...cols, covariates: ['rain'] } as typeof cols);
    expect(problems).toEqual([{ line: 6, column: 'rain', reason: 'non-numeric value ""' }]);
  });

  it('reads a categorical holiday column as a 0/1 flag', () => {
    const text = ['date,sales,temperature,holiday,store', ...Array.from({ length: 10 }, (_, i) => `2020-01-${String(i + 1).padStart(2, '0')},${i + 5},3,${i === 0 ? "New Year's Day" : ''},north`)].join('\n');
    const s = parseDataset(text, cols);
    expect(Object.keys(s.covariates)).toEqual(['holiday']);
    expect(Array.from(s.covariates.holiday!.slice(0, 3))).toEqual([1, 0, 0]);
  });

  it('scales the temperature column (bike data: temp x 41)', () => {
    const s = parseDataset(monthly(10), { ...cols, temperatureScale: 2 });
    expect(s.temperature[0]).toBe(20);
  });
});

describe('loadDataset', () => {
  it('loads the real Japan monthly default dataset: 231 months, 2000-01 .. 2019-03', async () => {
    const s = await loadDataset(join(__dirname, '../../data/japan_icecream_tokyo_monthly.csv'), japanColumns);
    expect(s.frequency).toBe('monthly');
    expect(s.dates.length).toBe(231);
    expect(s.dates[0]).toBe('2000-01-01');
    expect(s.dates[230]).toBe('2019-03-01');
    expect(s.target[0]).toBe(376);
    expect(s.temperature[0]).toBe(11.2);
    expect(Object.keys(s.covariates).sort()).toEqual(['days_in_month', 'tokyo_days_tavg_ge25c', 'tokyo_humidity_pct', 'tokyo_precip_mm']);
  });
});

describe('findLeakingCovariates', () => {
  it('flags columns that add up to the target (like the bike data: casual + registered = cnt)', () => {
    const rows = Array.from({ length: 10 }, (_, i) => `2020-01-${String(i + 1).padStart(2, '0')},${3 * i + 1},5,${i},${2 * i + 1},${i % 3},${3 * i + 1}`);
    const series = parseDataset(['date,sales,temperature,casual,registered,rain,copy', ...rows].join('\n'), cols);
    expect(findLeakingCovariates(series)).toEqual(['casual', 'copy', 'registered']);
  });
});
