import { HttpError } from '../errors';

/** Why a request was refused; the label of `icecream_auth_failures_total{reason}`. */
export const authFailureReasons = [
  'missing',
  'malformed',
  'unknown_key',
  'revoked',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'wrong_issuer',
  'wrong_audience',
  'bad_algorithm',
  'insufficient_scope',
  'rate_limited',
  'jwks_unavailable',
] as const;
export type AuthFailureReason = (typeof authFailureReasons)[number];

/** Error codes in the API's error body `{error: {code, message, request_id}}`. */
export const authErrorCodes = {
  unauthenticated: 'unauthenticated',
  insufficientScope: 'insufficient_scope',
  rateLimited: 'rate_limited',
  authUnavailable: 'auth_unavailable',
} as const;
export type AuthErrorCode = (typeof authErrorCodes)[keyof typeof authErrorCodes];

/**
 * A request refused by authentication (401), authorisation (403), the rate limit (429), or a
 * JWKS that cannot be fetched (503): an HttpError, so the app's one error handler answers with
 * its status, code, message and headers (WWW-Authenticate, Retry-After). The message never
 * contains the credential.
 */
export class AuthError extends HttpError {
  constructor(
    override readonly status: 401 | 403 | 429 | 503,
    override readonly code: AuthErrorCode,
    readonly reason: AuthFailureReason,
    message: string,
    headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(status, code, message, undefined, headers);
    this.name = 'AuthError';
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/**
 * An RFC 6750 `WWW-Authenticate` challenge. Without `error` when the request had no credentials
 * (RFC 6750 section 3.1); the description keeps to the characters the RFC allows.
 */
export function bearerChallenge(
  error?: 'invalid_token' | 'insufficient_scope',
  description?: string,
  scope?: string,
): string {
  let challenge = 'Bearer realm="icecream"';
  if (error) challenge += `, error="${error}"`;
  if (description)
    challenge += `, error_description="${description.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
  if (scope) challenge += `, scope="${scope}"`;
  return challenge;
}
