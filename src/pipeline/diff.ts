/**
 * What changed between two model versions (`icecream diff A B`): data, code, configuration,
 * metrics and selected features, from what each run recorded. Pure: two run summaries in, one
 * diff out; model-card-record.ts reads the summaries.
 */
import type { RunSummary } from './model-card';
import { provenanceTags } from './provenance';
import { canonicalJson, referenceTags } from './run-references';

/** One compared value; `null` when the run did not record it. */
export interface FieldDiff {
  name: string;
  a: string | null;
  b: string | null;
  changed: boolean;
}

export interface MetricDiff {
  name: string;
  a: number | null;
  b: number | null;
  /** b - a */
  delta: number | null;
  /** (b - a) / |a| */
  relative: number | null;
}

export interface VersionDiff {
  model: string;
  a: { version: string; runId: string };
  b: { version: string; runId: string };
  data: FieldDiff[];
  code: FieldDiff[];
  config: FieldDiff[];
  metrics: MetricDiff[];
  features: { added: string[]; removed: string[]; kept: number };
  /** true when nothing in data, code, config, metrics or features differs */
  same: boolean;
}

const field = (name: string, a: string | undefined, b: string | undefined): FieldDiff => ({
  name,
  a: a ?? null,
  b: b ?? null,
  changed: (a ?? null) !== (b ?? null),
});

// params that describe the data rather than the configuration
const dataParams = new Set(['data_path', 'rows', 'frequency', 'train_rows', 'holdout_from']);

function configEntries(s: RunSummary): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.params)) if (!dataParams.has(k)) out[k] = v;
  for (const [k, v] of Object.entries(s.config ?? {})) {
    if (k === 'dataPath' || k === 'dvcFile') continue;
    out[`config.${k}`] = typeof v === 'string' ? v : canonicalJson(v);
  }
  return out;
}

/** The features a model uses: its feature names, or the keys of its recorded feature spec. */
function featureList(s: RunSummary): string[] {
  if (s.featureNames) return s.featureNames;
  try {
    const spec = JSON.parse(s.params.features ?? '{}') as Record<string, unknown>;
    return Object.entries(spec).map(([k, v]) => `${k}=${canonicalJson(v)}`);
  } catch {
    return [];
  }
}

/** Compares version A with version B (B's values minus A's for metrics). */
export function diffVersions(a: RunSummary, b: RunSummary): VersionDiff {
  const t = (s: RunSummary, k: string) => s.tags[k];
  const data = [
    field('md5', t(a, referenceTags.dataMd5), t(b, referenceTags.dataMd5)),
    field('file', a.params.data_path, b.params.data_path),
    field('rows', a.params.rows, b.params.rows),
    field('train rows', a.params.train_rows, b.params.train_rows),
    field('holdout from', a.params.holdout_from, b.params.holdout_from),
    field(
      'period',
      a.training ? `${a.training.from}..${a.training.to}` : undefined,
      b.training ? `${b.training.from}..${b.training.to}` : undefined,
    ),
    field('pinned', t(a, referenceTags.dataPinned), t(b, referenceTags.dataPinned)),
    field('DVC remote', t(a, referenceTags.dvcRemote), t(b, referenceTags.dvcRemote)),
  ];
  const code = Object.entries(provenanceTags)
    .filter(([k]) => k !== 'dvcRemote' && k !== 'branch')
    .map(([k, tag]) => field(k, t(a, tag), t(b, tag)));
  const ca = configEntries(a);
  const cb = configEntries(b);
  const config = [...new Set([...Object.keys(ca), ...Object.keys(cb)])]
    .sort()
    .map((k) => field(k, ca[k], cb[k]));
  const metricNames = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])]
    .filter((k) => !k.startsWith('fold_'))
    .sort();
  const metrics = metricNames.map((name): MetricDiff => {
    const va = a.metrics[name] ?? null;
    const vb = b.metrics[name] ?? null;
    const delta = va !== null && vb !== null ? vb - va : null;
    return {
      name,
      a: va,
      b: vb,
      delta,
      relative: delta !== null && va !== null && va !== 0 ? delta / Math.abs(va) : null,
    };
  });
  const fa = featureList(a);
  const fb = featureList(b);
  const features = {
    added: fb.filter((f) => !fa.includes(f)),
    removed: fa.filter((f) => !fb.includes(f)),
    kept: fb.filter((f) => fa.includes(f)).length,
  };
  const same =
    [...data, ...code, ...config].every((f) => !f.changed) &&
    metrics.every((m) => m.delta === 0) &&
    features.added.length + features.removed.length === 0;
  return {
    model: a.modelName,
    a: { version: a.version, runId: a.runId },
    b: { version: b.version, runId: b.runId },
    data,
    code,
    config,
    metrics,
    features,
    same,
  };
}

const short = (v: string | null): string =>
  v === null ? '(none)' : /^[0-9a-f]{32,64}$/.test(v) ? v.slice(0, 12) : v;

/** One screen: changed fields per section, unchanged ones counted. */
export function formatVersionDiff(d: VersionDiff): string {
  const out = [
    `${d.model} v${d.a.version} -> v${d.b.version}   (runs ${d.a.runId} -> ${d.b.runId})`,
  ];
  const section = (title: string, fields: FieldDiff[]) => {
    const changed = fields.filter((f) => f.changed);
    const same = fields.length - changed.length;
    out.push(
      '',
      changed.length
        ? `${title}: ${changed.length} changed${same ? `, ${same} same` : ''}`
        : `${title}: same (${same} fields)`,
    );
    for (const f of changed) out.push(`  ${f.name.padEnd(22)} ${short(f.a)}  ->  ${short(f.b)}`);
    if (title === 'data') {
      const md5 = fields.find((f) => f.name === 'md5');
      if (md5 && !md5.changed) out.push(`  md5 ${short(md5.a)} (same)`);
    }
  };
  section('data', d.data);
  section('code', d.code);
  section('config', d.config);
  out.push('', 'metrics (B - A):');
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  for (const m of d.metrics) {
    if (m.delta === 0) continue;
    const rel =
      m.relative === null
        ? ''
        : ` (${m.relative >= 0 ? '+' : ''}${(m.relative * 100).toFixed(1)}%)`;
    out.push(
      `  ${m.name.padEnd(34)} ${fmt(m.a).padStart(12)} -> ${fmt(m.b).padStart(12)}  ${m.delta === null ? '' : `${m.delta >= 0 ? '+' : ''}${m.delta.toFixed(3)}`}${rel}`,
    );
  }
  const unchanged = d.metrics.filter((m) => m.delta === 0).length;
  if (unchanged) out.push(`  (${unchanged} metrics equal)`);
  out.push(
    '',
    `selected features: ${d.features.kept} kept` +
      (d.features.added.length ? `; added ${d.features.added.join(', ')}` : '') +
      (d.features.removed.length ? `; removed ${d.features.removed.join(', ')}` : ''),
  );
  if (d.same)
    out.push('', 'the two versions have the same data, code, configuration, metrics and features');
  return `${out.join('\n')}\n`;
}
