import type { Response } from 'express';
import type { z } from 'zod';
import { AdminActionError, type AdminActions } from '../admin';
import { HttpError } from '../errors';
import type { Live } from '../live';
import {
  adminResponse,
  issues,
  monitoringResponse,
  promoteRequest,
  rollbackRequest,
  trafficRequest,
  trafficResponse,
} from '../schemas';
import type { RouteSpec } from './types';

/** The caller's identity for the audit trail (the auth gate's principal). */
export function callerOf(res: Response): string {
  return (res.locals.principal as { id?: string } | undefined)?.id ?? 'anonymous';
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new HttpError(400, 'invalid_request', 'the body is invalid', issues(r.error));
  return r.data;
}

function requireActions(live: Live): AdminActions {
  if (!live.actions)
    throw new HttpError(503, 'no_registry', 'this server was started without registry actions');
  return live.actions;
}

async function registryAction<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AdminActionError) throw new HttpError(409, 'conflict', err.message);
    throw err;
  }
}

/** The traffic as the API shows it. */
export function trafficView(live: Live) {
  const t = live.traffic.current;
  return {
    mode: t.mode,
    canary_share: t.canaryShare,
    production_version: live.production.current?.version ?? null,
    canary_version: live.traffic.candidate()?.version ?? null,
  };
}

const admin404 = {
  400: { description: 'Invalid body.' },
  409: { description: 'The registry refused (unknown version, nothing to roll back to).' },
};

/** Release control (scope admin), every action audited with the caller's identity. */
export function adminRoutes(live: Live): RouteSpec[] {
  return [
    {
      method: 'put',
      path: '/v1/admin/traffic',
      summary: 'Set the release mode of the staging model (off, canary with a share, shadow)',
      scope: 'admin',
      body: trafficRequest,
      responses: {
        200: { description: 'The traffic now.', schema: trafficResponse },
        400: admin404[400],
      },
      handler: (req, res) => {
        const body = parse(trafficRequest, req.body);
        const before = live.traffic.current;
        const next = { mode: body.mode, canaryShare: body.canary_share ?? before.canaryShare };
        live.traffic.set(next);
        live.audit.add({
          by: callerOf(res),
          action: 'traffic',
          alias: 'staging',
          from: `${before.mode} ${before.canaryShare}`,
          to: `${next.mode} ${next.canaryShare}`,
          reason: body.reason ?? 'set by an admin',
        });
        res.json(trafficView(live));
      },
    },
    {
      method: 'post',
      path: '/v1/admin/promote',
      summary: 'Move production to a version (audited)',
      scope: 'admin',
      body: promoteRequest,
      responses: { 200: { description: 'Promoted.', schema: adminResponse }, ...admin404 },
      handler: async (req, res) => {
        const body = parse(promoteRequest, req.body);
        const actions = requireActions(live);
        const audit = await registryAction(() =>
          actions.promote({ version: body.version, reason: body.reason, by: callerOf(res) }),
        );
        live.audit.invalidate();
        await live.production.refresh();
        res.json({ audit, production_version: live.production.current?.version ?? null });
      },
    },
    {
      method: 'post',
      path: '/v1/admin/rollback',
      summary: 'Move production back (to a version, or to where it was before), audited',
      scope: 'admin',
      body: rollbackRequest,
      responses: { 200: { description: 'Rolled back.', schema: adminResponse }, ...admin404 },
      handler: async (req, res) => {
        const body = parse(rollbackRequest, req.body);
        const actions = requireActions(live);
        const audit = await registryAction(() =>
          actions.rollback({ to: body.to, reason: body.reason, by: callerOf(res) }),
        );
        live.audit.invalidate();
        await live.production.refresh();
        res.json({ audit, production_version: live.production.current?.version ?? null });
      },
    },
    {
      method: 'get',
      path: '/v1/monitoring',
      summary: 'Live quality, traffic, drift, the latest canary analysis, audit and request rates',
      scope: 'metrics',
      scopes: ['metrics', 'admin'],
      responses: { 200: { description: 'The monitoring snapshot.', schema: monitoringResponse } },
      handler: async (_req, res) => {
        res.json(await monitoringView(live));
      },
    },
  ];
}

/** The body of GET /v1/monitoring. */
export async function monitoringView(live: Live) {
  const now = Date.now();
  const traffic = trafficView(live);
  const mode = live.traffic.current.mode;
  const versions = [];
  const prod = live.production.current;
  if (prod)
    versions.push({
      version: prod.version,
      arm: 'production' as const,
      holdout_mae: prod.holdoutMae,
      live: live.monitor.quality(prod.version),
    });
  const cand = live.traffic.candidate();
  if (cand)
    versions.push({
      version: cand.version,
      arm: mode === 'shadow' ? ('shadow' as const) : ('canary' as const),
      holdout_mae: cand.holdoutMae,
      live: live.monitor.quality(cand.version),
    });
  const drift = live.drift();
  const minute = live.stats.summary(now - 60_000);
  const last = live.canary?.last ?? null;
  return {
    generated_at: new Date(now).toISOString(),
    traffic,
    versions,
    drift: {
      checked_at: drift.checkedAt,
      features: drift.features.map((f) => ({
        feature: f.feature,
        statistic: f.statistic,
        value: f.value,
        p_value: f.pValue,
        psi: f.psi,
        drifted: f.drifted,
      })),
    },
    canary_analysis: last && { at: last.at, decision: last.decision, reasons: last.reasons },
    audit: await live.audit.latest(50),
    requests: {
      rate_per_s: minute.requests / 60,
      p99_ms: minute.p99Seconds === null ? 0 : minute.p99Seconds * 1000,
      error_ratio: minute.requests ? minute.errors / minute.requests : 0,
    },
    process: { pid: process.pid, decides: live.decides() },
  };
}
