import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { apiKeyPrefix, type ApiKeyInfo, type KeyStore } from './api-keys';
import { AuthError, authErrorCodes, bearerChallenge, type AuthFailureReason } from './errors';
import type { Gate } from '../routes/types';
import type { JwtVerifier } from './jwt';
import type { RateLimiter } from './rate-limit';
import { scopes, type Scope } from './scopes';

/** Who is calling, on `res.locals.principal` for logs, rate limits and audit. */
export interface Principal {
  /** `key:<name>`, `jwt:<client_id|azp|sub>`, or `anonymous:<ip>` when auth is disabled. */
  id: string;
  kind: 'key' | 'jwt' | 'anonymous';
  scopes: readonly Scope[];
}

export interface AuthOptions {
  keys: KeyStore;
  /** OAuth2 bearer JWTs; without it only API keys are accepted. */
  jwt?: JwtVerifier | undefined;
  /** Per-client token bucket; without it no rate limit. */
  rateLimiter?: RateLimiter | undefined;
  /** AUTH_DISABLED: every request is an anonymous principal with every scope. */
  disabled?: boolean;
  /** Called once per refused request, e.g. `(reason) => authFailures.inc({ reason })`. */
  onFailure?: (reason: AuthFailureReason) => void;
}

/** The app's {@link Gate}: `require(scope)` = authenticate, rate limit, then the scope. */
export interface Auth extends Gate {
  /**
   * Identifies the caller (API key or JWT, from `Authorization: Bearer` or `X-API-Key`), applies
   * the rate limit and sets `res.locals.principal`. Runs before the body parser (the app mounts
   * the gate first), so that an unauthenticated body is never parsed.
   */
  authenticate: RequestHandler;
  /** 403 unless the principal holds the scope. Mount after `authenticate`. */
  requireScope(scope: Scope | readonly Scope[]): RequestHandler;
}

const maxCredentialLength = 8192;
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const bearer = /^Bearer +([^\s]+) *$/i;

const unauthenticated = (reason: AuthFailureReason, message: string): AuthError =>
  new AuthError(401, authErrorCodes.unauthenticated, reason, message, {
    // RFC 6750 section 3.1: no error information when the request had no credentials
    'WWW-Authenticate':
      reason === 'missing' ? bearerChallenge() : bearerChallenge('invalid_token', message),
  });

const missing = unauthenticated(
  'missing',
  'authentication required: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>", or an OAuth2 bearer token',
);

/** The credential a request carries, or the reason it carries none that can be used. */
function credentialOf(req: Request): string | AuthError {
  const header = req.headers.authorization;
  let credential: string;
  if (header !== undefined) {
    const m = bearer.exec(header);
    if (!m) {
      return unauthenticated(
        'malformed',
        'the Authorization header must be "Bearer <API key or token>"',
      );
    }
    credential = m[1]!;
  } else {
    const apiKey = req.headers['x-api-key'];
    if (apiKey === undefined) return missing;
    credential = (Array.isArray(apiKey) ? apiKey.join(',') : apiKey).trim();
    if (credential === '' || /[\s,]/.test(credential)) {
      return unauthenticated('malformed', 'the X-API-Key header must hold exactly one API key');
    }
  }
  if (credential.length > maxCredentialLength) {
    return unauthenticated(
      'malformed',
      `the credential is longer than ${maxCredentialLength} characters`,
    );
  }
  return credential;
}

const keyMessages = {
  malformed: 'the API key is malformed (keys look like icek_<id>_<secret>)',
  unknown_key: 'the API key is not known',
  revoked: 'the API key has been revoked',
} as const;

/**
 * Authentication, rate limiting and authorisation for the API. An API key is checked
 * synchronously (an in-memory lookup once verified), a JWT asynchronously (a signature check;
 * the JWKS is cached). Every refusal is an {@link AuthError} passed to `next`; the app's error
 * handler writes the body and the `WWW-Authenticate` or `Retry-After` header.
 */
export function createAuth(o: AuthOptions): Auth {
  const everyScope: readonly Scope[] = [...scopes];
  // one principal per verified key (the store hands out the same object until the file changes)
  const keyPrincipals = new WeakMap<ApiKeyInfo, Principal>();
  const principalOf = (key: ApiKeyInfo): Principal => {
    let p = keyPrincipals.get(key);
    if (!p) {
      p = Object.freeze({ id: `key:${key.name}`, kind: 'key' as const, scopes: key.scopes });
      keyPrincipals.set(key, p);
    }
    return p;
  };

  const fail = (next: NextFunction, err: AuthError): void => {
    o.onFailure?.(err.reason);
    next(err);
  };

  /** Rate limit, then hand on with the principal in place. */
  const admit = (principal: Principal, res: Response, next: NextFunction): void => {
    res.locals.principal = principal;
    const wait = o.rateLimiter?.take(principal.id) ?? 0;
    if (wait > 0) {
      const limiter = o.rateLimiter!;
      fail(
        next,
        new AuthError(
          429,
          authErrorCodes.rateLimited,
          'rate_limited',
          `too many requests from this client (limit ${limiter.perSecond}/s, burst ${limiter.burst}); retry after ${wait} s`,
          { 'Retry-After': String(wait) },
        ),
      );
      return;
    }
    next();
  };

  const authenticate: RequestHandler = (req, res, next) => {
    if (o.disabled) {
      const id = `anonymous:${req.socket.remoteAddress ?? 'unknown'}`;
      admit({ id, kind: 'anonymous', scopes: everyScope }, res, next);
      return;
    }
    const credential = credentialOf(req);
    if (credential instanceof AuthError) {
      fail(next, credential);
      return;
    }
    if (credential.startsWith(apiKeyPrefix)) {
      const verdict = o.keys.verify(credential);
      if (!verdict.ok) {
        fail(next, unauthenticated(verdict.reason, keyMessages[verdict.reason]));
        return;
      }
      o.keys.touch(verdict.key.id);
      admit(principalOf(verdict.key), res, next);
      return;
    }
    if (!jwtShape.test(credential)) {
      fail(
        next,
        unauthenticated('malformed', 'the credential is neither an API key (icek_...) nor a JWT'),
      );
      return;
    }
    if (!o.jwt) {
      fail(
        next,
        unauthenticated('malformed', 'this server accepts API keys only (no JWKS is configured)'),
      );
      return;
    }
    o.jwt.verify(credential).then(
      (principal) => admit(principal, res, next),
      (err: unknown) => {
        if (err instanceof AuthError) fail(next, err);
        else next(err);
      },
    );
  };

  const requireScope = (scope: Scope | readonly Scope[]): RequestHandler => {
    const wanted: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
    const named =
      wanted.length === 1 ? `the scope "${wanted[0]!}"` : `one of the scopes ${wanted.join(', ')}`;
    return (_req, res, next) => {
      const principal = res.locals.principal as Principal | undefined;
      if (principal && wanted.some((w) => principal.scopes.includes(w))) {
        next();
        return;
      }
      if (!principal) {
        // a route that forgot `authenticate`: closed, not open
        fail(next, missing);
        return;
      }
      const message = `this route needs ${named}; the credential has ${
        principal.scopes.length ? principal.scopes.join(', ') : 'no scopes'
      }`;
      fail(
        next,
        new AuthError(403, authErrorCodes.insufficientScope, 'insufficient_scope', message, {
          'WWW-Authenticate': bearerChallenge('insufficient_scope', message, wanted.join(' ')),
        }),
      );
    };
  };

  const requireAny = (anyOf: readonly Scope[]): RequestHandler => {
    const check = requireScope(anyOf);
    return (req, res, next) => {
      authenticate(req, res, (err?: unknown) => {
        if (err) next(err);
        else check(req, res, next);
      });
    };
  };

  return {
    authenticate,
    requireScope,
    require: (scope) => requireAny([scope]),
    requireAny,
  };
}
