/**
 * The model card of a registered version: what it is for, what it was trained on, how good it is
 * next to the naive baselines, where it fails, what it must not be used for, where it came from
 * and why it was (or was not) promoted. A pure function of what the run recorded (`RunSummary`),
 * rendered as JSON and Markdown; model-card-record.ts reads the summary from MLflow and logs both.
 */
import type { ErrorAnalysis, GroupError } from '../ml/analysis';
import { provenanceTags } from './provenance';
import { referenceTags } from './run-references';
import { defaultPromotionPolicy } from './steps';

/** What a run recorded, as read back from MLflow (see `loadRunSummary`). */
export interface RunSummary {
  modelName: string;
  version: string;
  runId: string;
  aliases: string[];
  params: Record<string, string>;
  metrics: Record<string, number>;
  /** run tags (provenance, data, references) */
  tags: Record<string, string>;
  /** model-version tags (promotion decisions) */
  versionTags: Record<string, string>;
  /** the resolved configuration (artifact pipeline/input.json), when recorded */
  config: Record<string, unknown> | null;
  /** the forecaster's feature names, when the model file was read */
  featureNames: string[] | null;
  /** the interval half-width by horizon (index h - 1), when the model file has them */
  intervalByHorizon?: number[] | null;
  /** training rows: period and temperature range */
  training: { from: string; to: string; rows: number; minTemp: number; maxTemp: number } | null;
  /** from the model-selection report, when a search ran */
  errorAnalysis: ErrorAnalysis | null;
}

type MetricSet = Partial<Record<'mae' | 'rmse' | 'mape' | 'smape' | 'r2', number>>;

/** The card as data (logged as model_card.json). */
export interface ModelCard {
  format: 'icecream-model-card';
  formatVersion: 1;
  model: { name: string; version: string; aliases: string[]; runId: string };
  intendedUse: string;
  data: {
    path: string | null;
    md5: string | null;
    dvcFile: string | null;
    dvcRemote: string | null;
    pinned: boolean | null;
    frequency: string | null;
    rows: number | null;
    trainRows: number | null;
    holdoutRows: number | null;
    trainingPeriod: { from: string; to: string } | null;
    holdoutFrom: string | null;
    trainingTemperature: { min: number; max: number } | null;
  };
  provenance: Record<string, string | null>;
  features: { spec: unknown; names: string[] | null };
  modelFamily: { family: string | null; params: Record<string, string>; seed: string | null };
  metrics: {
    holdout: MetricSet;
    cv: MetricSet | null;
    baselines: {
      lastValue: MetricSet;
      seasonalNaive: MetricSet;
      cvSeasonalNaive: MetricSet | null;
    };
  };
  interval: {
    nominal: number | null;
    empiricalHoldout: number | null;
    /** half-width for h periods ahead at index h - 1 (null: one width for every horizon) */
    halfWidthByHorizon: number[] | null;
  };
  errorAnalysis: {
    worstMonths: GroupError[];
    temperatureBands: GroupError[];
    worstRows: { date: string; actual: number; prediction: number; temperature: number }[];
  } | null;
  limitations: string[];
  lineage: {
    runId: string;
    dataMd5: string | null;
    commit: string | null;
    workflowId: string | null;
    parentVersions: string[];
  };
  promotion: {
    decision: string | null;
    reason: string | null;
    by: string | null;
    at: string | null;
    forced: boolean;
    policy: { minImprovement: number; maxPValue: number };
  };
}

const metricSet = (m: Record<string, number>, prefix: string): MetricSet => {
  const out: MetricSet = {};
  for (const k of ['mae', 'rmse', 'mape', 'smape', 'r2'] as const) {
    const v = m[`${prefix}${k}`];
    if (v !== undefined) out[k] = v;
  }
  return out;
};
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** Builds the card from a run summary. Pure: same summary, same card. */
export function buildModelCard(s: RunSummary): ModelCard {
  const t = s.tags;
  const p = s.params;
  const frequency = orNull(p.frequency);
  const horizon = frequency === 'monthly' ? 'month' : frequency === 'weekly' ? 'week' : 'day';
  const cv = metricSet(s.metrics, 'cv_');
  const cvSeasonal = metricSet(s.metrics, 'cv_baseline_seasonal_naive_');
  const parents = [
    ...new Set(
      ['production.previous_version', 'staging.previous_version']
        .map((k) => s.versionTags[k])
        .filter((v): v is string => !!v && v !== 'none' && v !== s.version),
    ),
  ];
  const limitations = [
    `One step ahead: each prediction uses the actual sales up to the previous ${horizon} (lag features); forecasts further ahead feed predictions back as lags and grow less accurate with every ${horizon}.`,
    s.training
      ? `Trained on temperatures from ${s.training.minTemp.toFixed(1)} to ${s.training.maxTemp.toFixed(1)} deg C; outside that range the model extrapolates and its interval is not calibrated.`
      : 'The training temperature range was not recorded; treat unusual temperatures as extrapolation.',
    s.training
      ? `Learned from ${s.training.from} .. ${s.training.to}; a change in prices, products or shops since then is not in the data.`
      : 'The training period was not recorded.',
    'Predictions are capped at the training maximum plus the training range and floored at 0.',
  ];
  if (t[provenanceTags.dirty] === 'true')
    limitations.push('Trained from a dirty working tree: the exact code is not in any commit.');
  if (t[referenceTags.dataPinned] === 'false')
    limitations.push(
      `The data file was not pinned in git (${t[referenceTags.dataPinnedReason] ?? 'no reason recorded'}).`,
    );
  const config = s.config ?? {};
  return {
    format: 'icecream-model-card',
    formatVersion: 1,
    model: { name: s.modelName, version: s.version, aliases: s.aliases, runId: s.runId },
    intendedUse:
      `Forecast ${frequency ?? ''} ice cream sales one ${horizon} ahead from the temperature forecast and the recent sales, with a prediction interval for planning stock. Not for causal conclusions about weather, nor for shops or products other than the ones in the training data.`.replace(
        /\s+/g,
        ' ',
      ),
    data: {
      path: orNull(p.data_path),
      md5: orNull(t[referenceTags.dataMd5]),
      dvcFile: orNull(t['data.dvc_file']),
      dvcRemote: orNull(t[referenceTags.dvcRemote]),
      pinned:
        t[referenceTags.dataPinned] === undefined ? null : t[referenceTags.dataPinned] === 'true',
      frequency,
      rows: p.rows ? Number(p.rows) : null,
      trainRows: p.train_rows ? Number(p.train_rows) : null,
      holdoutRows: p.holdout_rows ? Number(p.holdout_rows) : null,
      trainingPeriod: s.training ? { from: s.training.from, to: s.training.to } : null,
      holdoutFrom: orNull(p.holdout_from),
      trainingTemperature: s.training ? { min: s.training.minTemp, max: s.training.maxTemp } : null,
    },
    provenance: Object.fromEntries(
      Object.entries(provenanceTags).map(([k, tag]) => [k, orNull(t[tag])]),
    ),
    features: {
      spec: p.features ? (JSON.parse(p.features) as unknown) : null,
      names: s.featureNames,
    },
    modelFamily: {
      family: orNull(p.family),
      params: Object.fromEntries(
        Object.entries(p)
          .filter(([k]) => k.startsWith('param.'))
          .map(([k, v]) => [k.slice('param.'.length), v]),
      ),
      seed: orNull(p.seed),
    },
    metrics: {
      holdout: metricSet(s.metrics, 'holdout_'),
      cv: Object.keys(cv).length ? cv : null,
      baselines: {
        lastValue: metricSet(s.metrics, 'baseline_last_value_'),
        seasonalNaive: metricSet(s.metrics, 'baseline_seasonal_naive_'),
        cvSeasonalNaive: Object.keys(cvSeasonal).length ? cvSeasonal : null,
      },
    },
    interval: {
      nominal: p.coverage ? Number(p.coverage) : null,
      empiricalHoldout: orNull(s.metrics.holdout_interval_coverage),
      halfWidthByHorizon: s.intervalByHorizon ?? null,
    },
    errorAnalysis: s.errorAnalysis
      ? {
          worstMonths: [...s.errorAnalysis.byMonth].sort((a, b) => b.mae - a.mae).slice(0, 3),
          temperatureBands: s.errorAnalysis.byTemperatureBand,
          worstRows: s.errorAnalysis.worst.slice(0, 3).map((w) => ({
            date: w.date,
            actual: w.actual,
            prediction: w.prediction,
            temperature: w.temperature,
          })),
        }
      : null,
    limitations,
    lineage: {
      runId: s.runId,
      dataMd5: orNull(t[referenceTags.dataMd5]),
      commit: orNull(t[provenanceTags.commit]),
      workflowId: orNull(t[referenceTags.workflowId]),
      parentVersions: parents,
    },
    promotion: {
      decision: orNull(s.versionTags['production.decision']),
      reason: orNull(s.versionTags['production.reason']),
      by: orNull(s.versionTags['production.by']),
      at: orNull(s.versionTags['production.at']),
      forced: s.versionTags['production.forced'] === 'true',
      policy: {
        minImprovement: num(config.minImprovement) ?? defaultPromotionPolicy.minImprovement,
        maxPValue: num(config.maxPValue) ?? defaultPromotionPolicy.maxPValue,
      },
    },
  };
}

const f2 = (v: number | undefined | null): string =>
  v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(2);

/** The card as Markdown (logged as model_card.md and set as the version's description). */
export function renderModelCard(c: ModelCard): string {
  const d = c.data;
  const m = c.metrics;
  const row = (label: string, s: MetricSet | null): string[] =>
    s ? [`| ${label} | ${f2(s.mae)} | ${f2(s.rmse)} | ${f2(s.mape)} |`] : [];
  const out = [
    `# ${c.model.name} v${c.model.version}${c.model.aliases.length ? ` (${c.model.aliases.join(', ')})` : ''}`,
    '',
    '## Intended use',
    c.intendedUse,
    '',
    '## Data',
    `- file \`${d.path ?? '?'}\`, DVC md5 \`${d.md5 ?? '?'}\` (${d.pinned === null ? 'pin state not recorded' : d.pinned ? 'pinned in git' : 'NOT pinned'}), remote \`${d.dvcRemote ?? '?'}\``,
    `- ${d.rows ?? '?'} ${d.frequency ?? ''} rows; trained on ${d.trainRows ?? '?'}${d.trainingPeriod ? ` (${d.trainingPeriod.from} .. ${d.trainingPeriod.to})` : ''}, holdout ${d.holdoutRows ?? '?'} from ${d.holdoutFrom ?? '?'}`,
    `- training temperatures ${d.trainingTemperature ? `${d.trainingTemperature.min.toFixed(1)} .. ${d.trainingTemperature.max.toFixed(1)} deg C` : 'not recorded'}`,
    '',
    '## Model',
    `- family **${c.modelFamily.family ?? '?'}**, params ${
      Object.entries(c.modelFamily.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '(defaults)'
    }, seed ${c.modelFamily.seed ?? '?'}`,
    `- features: ${c.features.names ? c.features.names.join(', ') : JSON.stringify(c.features.spec)}`,
    '',
    '## Accuracy',
    '| | MAE | RMSE | MAPE % |',
    '|---|---|---|---|',
    ...row('holdout', m.holdout),
    ...row('CV (pooled)', m.cv),
    ...row('naive: seasonal, holdout', m.baselines.seasonalNaive),
    ...row('naive: last value, holdout', m.baselines.lastValue),
    ...row('naive: seasonal, CV', m.baselines.cvSeasonalNaive),
    '',
    `Prediction interval: nominal ${c.interval.nominal === null ? '?' : `${(c.interval.nominal * 100).toFixed(0)}%`}, empirical holdout coverage ${c.interval.empiricalHoldout === null ? '?' : `${(c.interval.empiricalHoldout * 100).toFixed(1)}%`}.`,
    ...horizonLine(c.interval.halfWidthByHorizon),
    '',
    '## Where it errs',
  ];
  const ea = c.errorAnalysis;
  if (ea) {
    out.push(
      `- worst months (MAE): ${ea.worstMonths.map((g) => `${g.key} ${f2(g.mae)} (bias ${f2(g.bias)})`).join(', ')}`,
      `- by temperature band (MAE): ${ea.temperatureBands.map((g) => `${g.key} ${f2(g.mae)} (n=${g.n})`).join(', ')}`,
      `- largest errors: ${ea.worstRows.map((w) => `${w.date} actual ${f2(w.actual)} predicted ${f2(w.prediction)} at ${w.temperature.toFixed(1)} C`).join('; ')}`,
    );
  } else {
    out.push('- no error analysis recorded (the configuration was fixed, no search ran)');
  }
  out.push('', '## Known limitations', ...c.limitations.map((l) => `- ${l}`));
  const pv = c.provenance;
  out.push(
    '',
    '## Lineage',
    `- run \`${c.lineage.runId}\`, workflow \`${c.lineage.workflowId ?? '?'}\``,
    `- data md5 \`${c.lineage.dataMd5 ?? '?'}\`, commit \`${c.lineage.commit ?? '?'}\`${pv.dirty === 'true' ? ' (dirty tree)' : ''}`,
    `- parent versions: ${c.lineage.parentVersions.length ? c.lineage.parentVersions.map((v) => `v${v}`).join(', ') : 'none'}`,
    `- Node ${pv.node ?? '?'}, MLflow ${pv.mlflow ?? '?'}, DVC ${pv.dvc ?? '?'}, Temporal SDK ${pv.temporalSdk ?? '?'}, ${pv.platform ?? '?'}`,
    '',
    '## Promotion',
  );
  const pr = c.promotion;
  out.push(
    pr.decision
      ? `- ${pr.decision}${pr.forced ? ' (FORCED by a person past the reproducibility gate)' : ''} by ${pr.by ?? '?'} at ${pr.at ?? '?'}: ${pr.reason ?? ''}`
      : '- no promotion decision yet',
    `- test: holdout MAE at least ${(pr.policy.minImprovement * 100).toFixed(1)}% better than production on the same holdout, one-sided Diebold-Mariano p below ${pr.policy.maxPValue}; only reproducible runs (clean tree, pinned data) are promoted automatically`,
  );
  return `${out.join('\n')}\n`;
}

/** The half-widths at a few horizons, e.g. "+/- 40 one period ahead, 61 at 3, ... 120 at 24". */
function horizonLine(widths: number[] | null): string[] {
  if (!widths?.length) return [];
  const at = [1, 3, 6, 12, 24, 56].filter((h) => h <= widths.length);
  if (at.at(-1) !== widths.length) at.push(widths.length);
  const parts = at.map((h) => `${widths[h - 1]!.toFixed(1)} at ${h}`);
  return [
    `Interval half-width by periods ahead (calibrated on backtests; wider further ahead): ${parts.join(', ')}.`,
  ];
}
