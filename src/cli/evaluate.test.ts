import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseForecaster } from '../ml';
import type { ExperimentReport } from '../ml/experiment';
import { registerEvaluate } from './evaluate';

const japan = path.join(__dirname, '../../data/japan_icecream_tokyo_monthly.csv');

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s) => (out.push(String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s) => (err.push(String(s)), true));
  try {
    const program = new Command('icecream').exitOverride();
    registerEvaluate(program);
    await program.parseAsync(['node', 'icecream', 'evaluate', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { stdout: out.join(''), stderr: err.join('') };
}

describe('icecream evaluate', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evaluate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a JSON report for the Japan dataset with folds, baselines, holdout and coverage', async () => {
    const { stdout, stderr } = await run([
      '--data',
      japan,
      '--families',
      'ridge,lasso',
      '--budget',
      '3',
      '--folds',
      '3',
      '--json',
      '--save-model',
      path.join(dir, 'model.json'),
    ]);
    const report = JSON.parse(stdout) as ExperimentReport;
    expect(report.dataset.rows).toBe(231);
    expect(report.protocol.folds).toHaveLength(3);
    expect(report.families.map((f) => f.family)).toEqual(['ridge', 'lasso']);
    expect(report.families[0]!.best!.folds).toHaveLength(3);
    expect(report.baselines.cv.seasonalNaive.mae).toBeGreaterThan(0);
    expect(report.holdout!.metrics.n).toBe(12);
    expect(report.holdout!.coverage.empirical).toBeGreaterThanOrEqual(0);
    expect(stderr).toMatch(/evaluate: done/); // not a TTY: plain progress lines on stderr
    const model = parseForecaster(await readFile(path.join(dir, 'model.json'), 'utf8'));
    expect(model.config.family).toBe(report.chosen.family);
  });

  it('prints a table and writes plots, with column flags for another dataset', async () => {
    const rows = ['day,units,tmax_f10,rain'];
    for (let i = 0; i < 250; i++) {
      const d = new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10);
      const t = 1.5 + Math.sin(i / 20);
      rows.push(
        `${d},${Math.round(100 + 40 * t + (i % 7 === 6 ? 30 : 0) + ((i * 37) % 11))},${t.toFixed(3)},${(i * 13) % 5}`,
      );
    }
    const file = path.join(dir, 'shop.csv');
    await writeFile(file, rows.join('\n'));
    const plots = path.join(dir, 'plots');
    const { stdout } = await run([
      '--data',
      file,
      '--date-col',
      'day',
      '--target-col',
      'units',
      '--temp-col',
      'tmax_f10',
      '--temp-scale',
      '10',
      '--families',
      'ridge',
      '--budget',
      '2',
      '--folds',
      '3',
      '--plots',
      plots,
    ]);
    expect(stdout).toMatch(/250 daily rows 2021-01-01\.\.2021-09-07/);
    expect(stdout).toMatch(/ridge \*/);
    expect(stdout).toMatch(/naive: seasonal \(lag 7\)/);
    expect(stdout).toMatch(/by weekday:/);
    expect((await readdir(plots)).filter((f) => f.endsWith('.png'))).toHaveLength(4);
  });

  it('fails with every bad row listed instead of training', async () => {
    const file = path.join(dir, 'bad.csv');
    await writeFile(
      file,
      ['date,sales,temperature', '2020-01-01,10,5', '2020-01-02,-3,5', '2020-01-02,4,x'].join('\n'),
    );
    await expect(run(['--data', file])).rejects.toThrow(
      /line 3 \[sales\]: negative sales -3[\s\S]*line 4 \[date\]: duplicate date/,
    );
  });
});
