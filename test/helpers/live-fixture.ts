/**
 * A small stand-in for the live-quality routes (`POST /v1/feedback`, `GET /v1/monitoring`, built
 * on branch `live`) with exactly their contract, so the dashboard and `icecream simulate` can be
 * tested end to end before those land. It computes its numbers from what really happened: the
 * predictions the real predict route answered (tapped from the responses), the actuals sent back,
 * and the requests it saw. Test code only.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError } from '../../src/server/errors';
import type { RouteSpec } from '../../src/server/routes/types';

interface Logged {
  version: string;
  prediction: number;
  lower: number;
  upper: number;
  temperature: number;
  actual?: number;
}

export interface AuditEntry {
  at: string;
  by: string;
  action: string;
  alias: string;
  from: string | null;
  to: string | null;
  reason: string;
}

/** Population stability index of `sample` against `reference`, on the reference's deciles. */
export function psi(reference: number[], sample: number[]): number {
  const sorted = [...reference].sort((a, b) => a - b);
  const edges = Array.from(
    { length: 9 },
    (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / 10)]!,
  );
  const shares = (xs: number[]) => {
    const counts = new Array<number>(10).fill(0);
    for (const x of xs) {
      let b = 0;
      while (b < 9 && x > edges[b]!) b++;
      counts[b]!++;
    }
    return counts.map((c) => Math.max(c / xs.length, 1e-4));
  };
  const p = shares(reference);
  const q = shares(sample);
  return p.reduce((s, pi, i) => s + (q[i]! - pi) * Math.log(q[i]! / pi), 0);
}

/** Two-sample Kolmogorov-Smirnov statistic D. */
function ks(a: number[], b: number[]): number {
  const xs = [...a, ...b].sort((x, y) => x - y);
  const cdf = (s: number[], x: number) => s.filter((v) => v <= x).length / s.length;
  return Math.max(...xs.map((x) => Math.abs(cdf(a, x) - cdf(b, x))));
}

export interface LiveFixture {
  /** Mount before the app: records every request and every answered prediction. */
  tap: RequestHandler;
  routes: RouteSpec[];
  feedbackCount(): number;
}

export function liveFixture(options: {
  productionVersion: string;
  holdoutMae: number;
  reference: { temperature: number[] };
  audit: AuditEntry[];
}): LiveFixture {
  const predictions = new Map<string, Logged>();
  const requests: { at: number; ms: number; error: boolean }[] = [];
  let feedback = 0;

  const tap: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () =>
      requests.push({
        at: Date.now(),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        error: res.statusCode >= 500,
      }),
    );
    if (req.method === 'POST' && req.path === '/v1/predict') {
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        const rows =
          (body as { predictions?: unknown[] }).predictions ?? (res.statusCode < 300 ? [body] : []);
        const inputs = (req.body as { rows?: { temperature: number }[] }).rows ?? [
          req.body as { temperature: number },
        ];
        rows.forEach((r, i) => {
          const p = r as {
            prediction_id: string;
            prediction: number;
            model_version: string;
            interval: { lower: number; upper: number };
          };
          predictions.set(p.prediction_id, {
            version: p.model_version,
            prediction: p.prediction,
            lower: p.interval.lower,
            upper: p.interval.upper,
            temperature: inputs[i]!.temperature,
          });
        });
        return json(body);
      };
    }
    next();
  };

  const feedbackRoute: RouteSpec = {
    method: 'post',
    path: '/v1/feedback',
    summary: 'Actual sales for a prediction (test fixture of the live contract)',
    scope: 'feedback',
    body: z.object({ prediction_id: z.string(), actual: z.number() }),
    responses: { 200: { description: '{accepted, corrected, duplicates}' } },
    handler: (req, res) => {
      const b = req.body as { prediction_id?: string; actual?: number };
      const p = b.prediction_id === undefined ? undefined : predictions.get(b.prediction_id);
      if (!p) throw new HttpError(404, 'unknown_prediction', 'no prediction with this id');
      if (typeof b.actual !== 'number' || !(b.actual >= 0))
        throw new HttpError(400, 'invalid_request', 'actual must be a number >= 0');
      const duplicate = p.actual === b.actual;
      const corrected = p.actual !== undefined && !duplicate;
      p.actual = b.actual;
      feedback++;
      res.json({
        accepted: duplicate || corrected ? 0 : 1,
        corrected: corrected ? 1 : 0,
        duplicates: duplicate ? 1 : 0,
      });
    },
  };

  const monitoringRoute: RouteSpec = {
    method: 'get',
    path: '/v1/monitoring',
    summary: 'Live quality, traffic, drift and audit (test fixture of the live contract)',
    scope: 'metrics',
    responses: { 200: { description: 'The monitoring document.' } },
    handler: (_req, res) => {
      const now = Date.now();
      const recent = requests.filter((r) => r.at > now - 10_000);
      const ms = recent.map((r) => r.ms).sort((a, b) => a - b);
      const scored = [...predictions.values()].filter((p) => p.actual !== undefined);
      const errors = scored.map((p) => p.prediction - p.actual!);
      const n = errors.length;
      const temps = [...predictions.values()].map((p) => p.temperature);
      const tempPsi = temps.length ? psi(options.reference.temperature, temps) : 0;
      const tempKs = temps.length ? ks(options.reference.temperature, temps) : 0;
      res.json({
        generated_at: new Date(now).toISOString(),
        traffic: {
          mode: 'production',
          canary_share: 0,
          production_version: options.productionVersion,
          canary_version: null,
        },
        versions: [
          {
            version: options.productionVersion,
            arm: 'production',
            holdout_mae: options.holdoutMae,
            live: [
              {
                window: 'all',
                n,
                mae: n ? errors.reduce((s, e) => s + Math.abs(e), 0) / n : null,
                rmse: n ? Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / n) : null,
                coverage: n
                  ? scored.filter((p) => p.actual! >= p.lower && p.actual! <= p.upper).length / n
                  : null,
              },
            ],
          },
        ],
        drift: {
          checked_at: temps.length ? new Date(now).toISOString() : null,
          features: temps.length
            ? [
                {
                  feature: 'temperature',
                  statistic: 'ks',
                  value: tempKs,
                  p_value: null,
                  psi: tempPsi,
                  drifted: tempPsi > 0.2,
                },
              ]
            : [],
        },
        canary_analysis: null,
        audit: options.audit,
        requests: {
          rate_per_s: recent.length / 10,
          p99_ms: ms.length ? ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))]! : 0,
          error_ratio: recent.length ? recent.filter((r) => r.error).length / recent.length : 0,
        },
      });
    },
  };

  return { tap, routes: [feedbackRoute, monitoringRoute], feedbackCount: () => feedback };
}
