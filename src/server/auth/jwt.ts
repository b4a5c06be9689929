import { hash, randomBytes } from 'node:crypto';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { jwtAlgorithmNames } from '../../config';
import { AuthError, authErrorCodes, bearerChallenge, type AuthFailureReason } from './errors';
import { isScope, type Scope } from './scopes';

// jose is an ES module: loaded with import() from this CommonJS build, typed from its declarations
type Jose = typeof JoseModule;
type JWTPayload = JoseModule.JWTPayload;

/** Asymmetric signature algorithms only: an HMAC ("HS256") or "none" is never accepted. */
export type JwtAlgorithm = (typeof jwtAlgorithmNames)[number];

export interface JwtOptions {
  /** The identity provider's JWKS (`jwks_uri` in its OpenID configuration). */
  jwksUrl: string;
  /** Exact `iss` value. */
  issuer: string;
  /** This API's identifier, which `aud` must contain. */
  audience: string;
  algorithms: readonly JwtAlgorithm[];
  /** Leeway for exp / nbf against clock skew (default 60 s). */
  clockToleranceSeconds?: number;
  /** Clock in epoch ms, for tests (default Date.now). */
  now?: () => number;
}

/** How long a verified token is answered from memory before its signature is checked again. */
const reverifyAfterMs = 60_000;

export interface JwtPrincipal {
  id: string;
  kind: 'jwt';
  scopes: Scope[];
}

export interface JwtVerifier {
  /** @throws AuthError (401, or 503 when the JWKS cannot be fetched). */
  verify(token: string): Promise<JwtPrincipal>;
}

/** The scopes of a token: our four names in the space-separated `scope` claim; others ignored. */
export function scopesOf(payload: JWTPayload): Scope[] {
  return typeof payload.scope === 'string' ? payload.scope.split(' ').filter(isScope) : [];
}

const invalid = (reason: AuthFailureReason, message: string, cause?: unknown): AuthError =>
  new AuthError(
    401,
    authErrorCodes.unauthenticated,
    reason,
    message,
    { 'WWW-Authenticate': bearerChallenge('invalid_token', message) },
    { cause },
  );

/** Maps jose's errors to a reason and a message that names the problem (never the token). */
function toAuthError(err: unknown, o: JwtOptions): AuthError {
  const e = err as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return invalid('expired', 'the token has expired', err);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'nbf')
        return invalid('not_yet_valid', 'the token is not valid yet (nbf)', err);
      if (e.claim === 'iss') {
        return invalid('wrong_issuer', `the token was not issued by ${o.issuer}`, err);
      }
      if (e.claim === 'aud') {
        return invalid('wrong_audience', `the token is not meant for audience ${o.audience}`, err);
      }
      if (e.claim === 'exp' && e.reason === 'missing') {
        return invalid('malformed', 'the token has no expiry (exp claim)', err);
      }
      return invalid('malformed', `the token's ${String(e.claim)} claim is invalid`, err);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return invalid(
        'bad_algorithm',
        `the token's signing algorithm is not accepted (accepted: ${o.algorithms.join(', ')})`,
        err,
      );
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalid(
        'bad_signature',
        "the token's signature does not verify with the issuer's keys",
        err,
      );
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
    case 'ERR_JOSE_GENERIC': // the JWKS answered other than 200
      return jwksUnavailable(err);
    default:
      // fetch() rejects with a TypeError when the JWKS host cannot be reached
      if (err instanceof TypeError) return jwksUnavailable(err);
      return invalid('malformed', 'the token is not a well-formed signed JWT', err);
  }
}

/** The JWKS could not be fetched or read: the server's problem, not the client's. */
function jwksUnavailable(err: unknown): AuthError {
  return new AuthError(
    503,
    authErrorCodes.authUnavailable,
    'jwks_unavailable',
    "the identity provider's signing keys cannot be fetched; try again later",
    { 'Retry-After': '5' },
    { cause: err },
  );
}

/**
 * OAuth2 bearer JWTs checked with jose against a remote JWKS (fetched on first use, cached for
 * 10 minutes, re-fetched at most every 30 s when a token names an unknown key): signature with
 * the allowed algorithms only, `iss`, `aud`, `exp` (required) and `nbf`. A client re-sends the
 * same token for its lifetime, so a verified token is remembered (under a keyed hash, never in
 * clear) until its `exp`, and at most a minute: the signature check (60-90 µs) runs once a minute
 * per token, not per request.
 */
export function createJwtVerifier(o: JwtOptions): JwtVerifier {
  let ready: Promise<{ jose: Jose; jwks: ReturnType<Jose['createRemoteJWKSet']> }> | undefined;
  const algorithms = [...o.algorithms];
  const now = o.now ?? Date.now;
  const pepper = randomBytes(32).toString('base64url');
  const verified = new Map<string, { principal: JwtPrincipal; until: number }>();
  return {
    async verify(token) {
      const cacheKey = hash('sha256', pepper + token, 'base64url');
      const t = now();
      const hit = verified.get(cacheKey);
      if (hit && t < hit.until) return hit.principal;
      if (hit) verified.delete(cacheKey);
      ready ??= import('jose').then((jose) => ({
        jose,
        jwks: jose.createRemoteJWKSet(new URL(o.jwksUrl), { timeoutDuration: 5000 }),
      }));
      const { jose, jwks } = await ready;
      let payload: JWTPayload;
      try {
        ({ payload } = await jose.jwtVerify(token, jwks, {
          issuer: o.issuer,
          audience: o.audience,
          algorithms,
          requiredClaims: ['exp'],
          clockTolerance: o.clockToleranceSeconds ?? 60,
          currentDate: new Date(t),
        }));
      } catch (err) {
        throw toAuthError(err, o);
      }
      const client = [payload.client_id, payload.azp, payload.sub].find(
        (v): v is string => typeof v === 'string' && v.length > 0,
      );
      if (!client) throw invalid('malformed', 'the token names no client (client_id, azp or sub)');
      const principal: JwtPrincipal = Object.freeze({
        id: `jwt:${client.slice(0, 200)}`,
        kind: 'jwt' as const,
        scopes: scopesOf(payload),
      });
      if (verified.size >= 10_000) verified.clear();
      // exp is required and checked above; the cache never outlives it
      verified.set(cacheKey, {
        principal,
        until: Math.min((payload.exp ?? 0) * 1000, t + reverifyAfterMs),
      });
      return principal;
    },
  };
}
