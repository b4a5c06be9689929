import type { RequestHandler } from 'express';
import type { z } from 'zod';

export const scopes = ['predict', 'feedback', 'admin', 'metrics'] as const;
/** What a credential allows: predictions, sending actuals, release control, reading metrics. */
export type Scope = (typeof scopes)[number];

/** Authentication and authorisation, as a middleware per scope. */
export interface Gate {
  require(scope: Scope): RequestHandler;
  /** Called when the server stops (e.g. to write what the gate batched). */
  close?(): Promise<void>;
  /** Lets a caller holding any of `scopes` through. */
  requireAny(scopes: readonly Scope[]): RequestHandler;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

/**
 * One route: mounted by createApp and documented in the OpenAPI document from the same object,
 * so a route cannot exist without its document.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  /** The scope a caller needs; null for the open routes (health, readiness, the document). */
  scope: Scope | null;
  /** Any of these scopes is enough (e.g. metrics or admin); `scope` is the first of them. */
  scopes?: readonly Scope[];
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
  handler: RequestHandler;
}

const pass: RequestHandler = (_req, _res, next) => next();
/** Lets everything through: for tests of what lies behind the gate. */
export const openGate: Gate = { require: () => pass, requireAny: () => pass };
