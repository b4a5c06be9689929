import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import type { Logger } from '../logger';
import { securityHeaders } from './auth/security-headers';
import { HttpError, errorHandler } from './errors';
import { createLive, type Live } from './live';
import type { Metrics } from './metrics';
import type { ModelHolder } from './model-holder';
import { openApiDocument } from './openapi';
import { adminRoutes } from './routes/admin';
import { feedbackRoutes } from './routes/feedback';
import { dashboardRoutes } from './routes/dashboard';
import { opsRoutes } from './routes/ops';
import { predictRoutes } from './routes/predict';
import type { Gate, RouteSpec } from './routes/types';

export interface AppDeps {
  /** The model of the `production` alias. */
  models: ModelHolder;
  log: Logger;
  metrics: Metrics;
  /** Authentication and authorisation per scope. */
  gate: Gate;
  limits: { maxBodyBytes: number; maxBatch: number };
  /** True while draining before shutdown. */
  draining?: () => boolean;
  /** Live quality, traffic split and release control; an in-memory one without staging by default. */
  live?: Live;
  /** Extra routes (documented like the others); one with a built-in route's method and path replaces it. */
  routes?: RouteSpec[];
  version?: string;
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

/** The routes of the API, mounted and documented from the same list. */
export function apiRoutes(deps: AppDeps): RouteSpec[] {
  const live = liveOf(deps);
  const builtIn: RouteSpec[] = [
    ...opsRoutes({
      models: deps.models,
      registry: deps.metrics.registry,
      draining: deps.draining ?? (() => false),
    }),
    ...predictRoutes({ live, metrics: deps.metrics, maxBatch: deps.limits.maxBatch }),
    ...feedbackRoutes({ live, metrics: deps.metrics, maxBatch: deps.limits.maxBatch }),
    ...adminRoutes(live),
    ...dashboardRoutes(),
  ];
  const extra = deps.routes ?? [];
  const replaced = new Set(extra.map((r) => `${r.method} ${r.path}`));
  const routes = [...builtIn.filter((r) => !replaced.has(`${r.method} ${r.path}`)), ...extra];
  let document: unknown;
  routes.push({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    scope: null,
    responses: { 200: { description: 'The OpenAPI document.' } },
    handler: (_req, res) => {
      document ??= openApiDocument(routes, { version: deps.version ?? '0.0.0' });
      res.json(document);
    },
  });
  return routes;
}

const defaultLive = new WeakMap<AppDeps, Live>();

/** The deps' live-quality parts, or one in-memory set per deps object. */
function liveOf(deps: AppDeps): Live {
  if (deps.live) return deps.live;
  let live = defaultLive.get(deps);
  if (!live) {
    live = createLive({ production: deps.models, metrics: deps.metrics, log: deps.log });
    defaultLive.set(deps, live);
  }
  return live;
}

/** The prediction API without listen(): tests mount it on an ephemeral port. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const { httpDuration } = deps.metrics;
  const log = deps.log;
  const stats = liveOf(deps).stats;

  // per request: an id, one log line and one histogram observation; kept allocation-light
  const requestContext: RequestHandler = (req, res, next) => {
    const given = req.headers['x-request-id'];
    const requestId =
      typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    const started = process.hrtime.bigint();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const version = (res.locals.modelVersion as string | undefined) ?? '';
      httpDuration.observe(
        { route, method: req.method, status: res.statusCode, model_version: version },
        seconds,
      );
      stats.observe({
        time: Date.now(),
        arm: (res.locals.arm as 'production' | 'canary' | undefined) ?? '',
        version,
        seconds,
        error: res.statusCode >= 500,
      });
      log.info(
        {
          requestId,
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1e6) / 1e3,
          ...(res.locals.predictionIds ? { predictionIds: res.locals.predictionIds } : {}),
          ...(res.locals.principal ? { client: (res.locals.principal as { id: string }).id } : {}),
        },
        'request',
      );
    });
    next();
  };
  app.use(requestContext);
  app.use(securityHeaders);

  const json = express.json({ limit: deps.limits.maxBodyBytes });
  for (const route of apiRoutes(deps)) {
    const chain: RequestHandler[] = [];
    if (route.scopes) chain.push(deps.gate.requireAny(route.scopes));
    else if (route.scope) chain.push(deps.gate.require(route.scope));
    if (route.body) chain.push(json);
    chain.push(route.handler);
    app[route.method](route.path, ...chain);
  }

  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  app.use(
    errorHandler(
      log,
      (code) => deps.metrics.errors.inc({ code }),
      `${Math.round(deps.limits.maxBodyBytes / 1024)} kB`,
    ),
  );
  return app;
}
