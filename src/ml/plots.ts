/**
 * Plots as standalone SVG strings (pure: no DOM, no fonts loaded here). Text uses the
 * "DejaVu Sans, Arial, sans-serif" family so a renderer with system fonts (resvg) can rasterise it.
 */
import type { ScoredRow } from './analysis';
import type { ExperimentReport } from './experiment';

const W = 800;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 60 };
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';
const COLORS = {
  actual: '#1f2937',
  prediction: '#2563eb',
  band: '#93c5fd',
  zero: '#9ca3af',
  bar: '#2563eb',
  baseline: '#f59e0b',
  point: '#dc2626',
};

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  return v.toFixed(a >= 1 ? 1 : 2);
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.75) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

interface Scale {
  (v: number): number;
  lo: number;
  hi: number;
}
function scale(lo: number, hi: number, from: number, to: number): Scale {
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const f = ((v: number) => from + ((v - lo) / (hi - lo)) * (to - from)) as Scale;
  f.lo = lo;
  f.hi = hi;
  return f;
}

function extent(values: number[], pad = 0.05): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  const d = (hi - lo || Math.abs(hi) || 1) * pad;
  return [lo - d, hi + d];
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  body: string,
  x: Scale | null,
  y: Scale,
  xTickLabels?: { at: number; label: string }[],
): string {
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" ${FONT} fill="#111827">${escapeXml(title)}</text>`,
  );
  for (const t of niceTicks(y.lo, y.hi)) {
    const py = y(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py}" y2="${py}" stroke="#e5e7eb"/>`);
    parts.push(
      `<text x="${M.left - 6}" y="${py}" dy="4" text-anchor="end" font-size="11" ${FONT} fill="#374151">${fmt(t)}</text>`,
    );
  }
  const ticks =
    xTickLabels ?? (x ? niceTicks(x.lo, x.hi).map((t) => ({ at: x(t), label: fmt(t) })) : []);
  for (const t of ticks) {
    parts.push(
      `<text x="${t.at.toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11" ${FONT} fill="#374151">${escapeXml(t.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#6b7280"/>`,
  );
  parts.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#6b7280"/>`,
  );
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle" font-size="12" ${FONT} fill="#111827">${escapeXml(xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT} fill="#111827">${escapeXml(yLabel)}</text>`,
  );
  parts.push(body);
  parts.push('</svg>');
  return parts.join('\n');
}

function legend(items: { label: string; color: string }[]): string {
  return items
    .map((it, i) => {
      const x = M.left + 10 + i * 150;
      return `<rect x="${x}" y="${M.top - 2}" width="12" height="12" fill="${it.color}"/><text x="${x + 16}" y="${M.top + 8}" font-size="11" ${FONT} fill="#111827">${escapeXml(it.label)}</text>`;
    })
    .join('');
}

/** Points on a time axis: predicted vs actual, with the interval as a band when given. */
export interface TimePoint {
  date: string;
  actual: number;
  prediction: number;
  lower?: number;
  upper?: number;
}

/** Line chart of actual and predicted values over time (rows in date order), interval band if present. */
export function predictedVsActualSvg(
  points: TimePoint[],
  title = 'Predicted vs actual',
  yLabel = 'sales',
): string {
  const n = points.length;
  const x = scale(0, Math.max(1, n - 1), M.left, W - M.right);
  const [lo, hi] = extent(
    points.flatMap((p) => [p.actual, p.prediction, p.lower ?? p.actual, p.upper ?? p.actual]),
  );
  const y = scale(lo, hi, H - M.bottom, M.top + 14);
  const path = (get: (p: TimePoint) => number) =>
    points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(get(p)).toFixed(1)}`).join('');
  let band = '';
  if (n && points.every((p) => p.lower !== undefined && p.upper !== undefined)) {
    const up = points.map((p, i) => `${x(i).toFixed(1)},${y(p.upper!).toFixed(1)}`);
    const down = points.map((p, i) => `${x(i).toFixed(1)},${y(p.lower!).toFixed(1)}`).reverse();
    band = `<polygon points="${[...up, ...down].join(' ')}" fill="${COLORS.band}" fill-opacity="0.45" stroke="none"/>`;
  }
  const body = [
    band,
    `<path d="${path((p) => p.actual)}" fill="none" stroke="${COLORS.actual}" stroke-width="1.6"/>`,
    `<path d="${path((p) => p.prediction)}" fill="none" stroke="${COLORS.prediction}" stroke-width="1.6" stroke-dasharray="5 3"/>`,
    legend([
      { label: 'actual', color: COLORS.actual },
      { label: 'predicted', color: COLORS.prediction },
      ...(band ? [{ label: 'interval', color: COLORS.band }] : []),
    ]),
  ].join('\n');
  const step = Math.max(1, Math.ceil(n / 8));
  const ticks = points.flatMap((p, i) => (i % step === 0 ? [{ at: x(i), label: p.date }] : []));
  return frame(title, 'date', yLabel, body, null, y, ticks);
}

/** Scatter of residuals (actual - predicted) against temperature, with a zero line. */
export function residualsVsTemperatureSvg(
  rows: ScoredRow[],
  title = 'Residuals vs temperature',
): string {
  const [tlo, thi] = extent(rows.map((r) => r.temperature));
  const res = rows.map((r) => r.actual - r.prediction);
  const [rlo, rhi] = extent([...res, 0]);
  const x = scale(tlo, thi, M.left, W - M.right);
  const y = scale(rlo, rhi, H - M.bottom, M.top);
  const dots = rows
    .map(
      (r, i) =>
        `<circle cx="${x(r.temperature).toFixed(1)}" cy="${y(res[i]!).toFixed(1)}" r="3" fill="${COLORS.point}" fill-opacity="0.6"/>`,
    )
    .join('');
  const zero = `<line x1="${M.left}" x2="${W - M.right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="${COLORS.zero}" stroke-dasharray="4 3"/>`;
  return frame(title, 'temperature (deg C)', 'actual - predicted', zero + dots, x, y);
}

/** Horizontal bars, largest first (feature importance, CV scores). */
export function barChartSvg(
  items: { label: string; value: number; highlight?: boolean }[],
  title: string,
  valueLabel: string,
): string {
  const n = Math.max(1, items.length);
  const left = 190;
  const maxV = Math.max(0, ...items.map((i) => i.value)) || 1;
  const height = Math.max(H, M.top + 30 + n * 22 + M.bottom);
  const x = scale(0, maxV * 1.08, left, W - M.right);
  const rowH = (height - M.top - 20 - M.bottom) / n;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" ${FONT} fill="#111827">${escapeXml(title)}</text>`,
  ];
  items.forEach((it, i) => {
    const y0 = M.top + 10 + i * rowH;
    const w = Math.max(0, x(it.value) - left);
    parts.push(
      `<rect x="${left}" y="${(y0 + rowH * 0.15).toFixed(1)}" width="${w.toFixed(1)}" height="${(rowH * 0.7).toFixed(1)}" fill="${it.highlight ? COLORS.baseline : COLORS.bar}"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${(y0 + rowH / 2 + 4).toFixed(1)}" text-anchor="end" font-size="11" ${FONT} fill="#111827">${escapeXml(it.label)}</text>`,
    );
    parts.push(
      `<text x="${(left + w + 4).toFixed(1)}" y="${(y0 + rowH / 2 + 4).toFixed(1)}" font-size="11" ${FONT} fill="#374151">${fmt(it.value)}</text>`,
    );
  });
  parts.push(
    `<text x="${(left + W - M.right) / 2}" y="${height - 20}" text-anchor="middle" font-size="12" ${FONT} fill="#111827">${escapeXml(valueLabel)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** The four standard plots of an experiment report, keyed by file stem. */
export function experimentPlots(report: ExperimentReport): Record<string, string> {
  const oos = [...report.outOfSample].sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : 0,
  );
  const intervals = new Map((report.holdout?.predictions ?? []).map((p) => [p.date, p]));
  const hw = report.interval.halfWidth;
  const points: TimePoint[] = oos.map((r) => {
    const p = intervals.get(r.date);
    return {
      date: r.date,
      actual: r.actual,
      prediction: r.prediction,
      lower: p ? p.lower : Math.max(0, r.prediction - hw),
      upper: p ? p.upper : r.prediction + hw,
    };
  });
  const families: { label: string; value: number; highlight?: boolean }[] = report.families
    .filter((f) => f.best)
    .map((f) => ({ label: f.family, value: f.best!.cv.mae }));
  families.push(
    { label: 'naive: last value', value: report.baselines.cv.lastValue.mae, highlight: true },
    {
      label: `naive: seasonal (${report.baselines.cv.seasonalPeriod})`,
      value: report.baselines.cv.seasonalNaive.mae,
      highlight: true,
    },
  );
  families.sort((a, b) => a.value - b.value);
  return {
    'predicted-vs-actual': predictedVsActualSvg(
      points,
      `Out-of-sample predictions (${report.chosen.family}), ${Math.round(report.interval.coverage * 100)}% interval`,
    ),
    'residuals-vs-temperature': residualsVsTemperatureSvg(oos),
    'feature-importance': barChartSvg(
      report.featureImportance.slice(0, 15).map((f) => ({ label: f.name, value: f.importance })),
      `Feature importance (${report.chosen.family})`,
      'share of importance',
    ),
    'cv-scores': barChartSvg(
      families,
      'Cross-validated MAE per model family (lower is better)',
      'MAE (pooled over folds)',
    ),
  };
}
