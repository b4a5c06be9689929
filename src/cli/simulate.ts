import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config';
import { parseDataset } from '../data/dataset';
import { DEFAULT_PERIODS, simulate, type SimulateSummary } from '../simulate/replay';
import { columnsFromOptions, type EvaluateCliOptions } from './evaluate';

interface SimulateCliOptions {
  data?: string;
  dateCol?: string;
  targetCol?: string;
  tempCol?: string;
  speed: number;
  from?: string;
  periods: number;
  degradeAt?: string;
  degradeTemp: number;
  degradeSales: number;
  url?: string;
  key?: string;
  json?: boolean;
}

const number = (name: string, check: (n: number) => boolean, what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${name} must be ${what}`);
  return n;
};
const date = (name: string) => (v: string) => {
  if (!/^\d{4}-\d{2}(-\d{2})?$/.test(v))
    throw new InvalidArgumentError(`${name} must be YYYY-MM-DD or YYYY-MM`);
  return v.length === 7 ? `${v}-01` : v;
};

function formatSummary(s: SimulateSummary, degradeAt: string | undefined): string {
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(1));
  const lines = [
    `replayed ${s.periods} periods ${s.from ?? '-'}..${s.to ?? '-'} against model version(s) ${s.modelVersions.join(', ') || '-'}`,
    `MAE seen by the client: ${f(s.mae.all)}` +
      (degradeAt
        ? ` (before ${degradeAt}: ${f(s.mae.beforeDegrade)}; from it, ${s.degradedPeriods} degraded periods: ${f(s.mae.afterDegrade)})`
        : ''),
    `feedback: ${s.feedback.accepted} accepted, ${s.feedback.corrected} corrected, ${s.feedback.duplicates} duplicates`,
  ];
  if (s.service === null) lines.push('service live MAE: not available (no /v1/monitoring)');
  else
    for (const v of s.service)
      lines.push(
        `service live MAE v${v.version} (${v.arm}, window ${v.window}): ${f(v.mae)} over ${v.n}`,
      );
  return lines.join('\n');
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'replay a dataset period by period against a running service: predict each period, then send its actual sales as feedback',
    )
    .option('--data <file>', 'CSV to replay (default: the project dataset, ICECREAM_DATA)')
    .option('--date-col <name>', 'date column')
    .option('--target-col <name>', 'sales column')
    .option('--temp-col <name>', 'temperature column')
    .option(
      '--speed <periods-per-second>',
      'replay pace',
      number('--speed', (n) => n > 0, 'a positive number'),
      2,
    )
    .option(
      '--from <date>',
      "first period (default: the first after the model's history, else the file's last --periods)",
      date('--from'),
    )
    .option(
      '--periods <n>',
      'periods to replay at most',
      number('--periods', (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
      DEFAULT_PERIODS,
    )
    .option(
      '--degrade-at <date>',
      'from this period on, shift temperatures and scale actual sales',
      date('--degrade-at'),
    )
    .option(
      '--degrade-temp <deg-c>',
      'temperature shift from --degrade-at',
      number('--degrade-temp', () => true, 'a number'),
      3,
    )
    .option(
      '--degrade-sales <factor>',
      'factor on actual sales from --degrade-at',
      number('--degrade-sales', (n) => n >= 0, 'a non-negative number'),
      0.8,
    )
    .option('--url <url>', 'the API (default: ICECREAM_API_URL, or http://127.0.0.1:API_PORT)')
    .option(
      '--key <key>',
      'API key with scopes predict and feedback (prefer ICECREAM_API_KEY: a flag shows in ps)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: SimulateCliOptions) => {
      const config = loadConfig();
      const file = o.data ?? config.dataPath;
      const text = await readFile(file, 'utf8');
      const header = (text.split('\n', 1)[0] ?? '').split(',').map((h) => h.trim());
      const series = parseDataset(
        text,
        columnsFromOptions(o as unknown as EvaluateCliOptions, header),
        file,
      );
      const key = o.key ?? config.client.apiKey;
      const url = o.url ?? config.client.apiUrl;
      const out = process.stderr;
      out.write(`replaying ${file} against ${url} at ${o.speed} periods/s\n`);
      const summary = await simulate({
        url,
        ...(key ? { key } : {}),
        series,
        speed: o.speed,
        periods: o.periods,
        ...(o.from ? { from: o.from } : {}),
        ...(o.degradeAt
          ? {
              degrade: {
                at: o.degradeAt,
                temperatureShift: o.degradeTemp,
                salesFactor: o.degradeSales,
              },
            }
          : {}),
        onPeriod: (p, done, total) => {
          out.write(
            `[${String(done).padStart(String(total).length)}/${total}] ${p.date} ${p.temperature.toFixed(1)} C  predicted ${p.prediction.toFixed(1)}  actual ${p.actual.toFixed(1)}  |err| ${Math.abs(p.prediction - p.actual).toFixed(1)}  MAE ${p.mae.toFixed(1)}  v${p.modelVersion}${p.degraded ? '  (degraded)' : ''}\n`,
          );
        },
      });
      process.stdout.write(
        o.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `${formatSummary(summary, o.degradeAt)}\n`,
      );
    });
}
