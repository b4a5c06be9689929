import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { Metrics } from '../metrics';
import { FileKeyStore, type KeyStore } from './api-keys';
import type { AuthFailureReason } from './errors';
import { createJwtVerifier } from './jwt';
import { createAuth, type Auth } from './middleware';
import { RateLimiter } from './rate-limit';

export { AuthError, authFailureReasons, type AuthFailureReason } from './errors';
export {
  FileKeyStore,
  KeyStoreError,
  apiKeyPrefix,
  type ApiKeyInfo,
  type KeyStore,
} from './api-keys';
export { createAuth, type Auth, type AuthOptions, type Principal } from './middleware';
export { RateLimiter } from './rate-limit';
export { parseScopes, scopes, type Scope } from './scopes';
export { securityHeaders } from './security-headers';

/**
 * The API's authentication from the configuration: the key file, JWTs when AUTH_JWKS_URL is set,
 * the per-client rate limit. Logs a warning when AUTH_DISABLED turns it all off, or when nothing
 * could ever pass (no key, no JWKS). `close()` writes the batched last-used times.
 */
export function authFromConfig(
  config: Config['auth'],
  log: Logger,
  onFailure?: (reason: AuthFailureReason) => void,
): Auth & { keys: KeyStore; close: () => Promise<void> } {
  const keys = new FileKeyStore(config.keysFile);
  if (config.disabled) {
    log.warn(
      {},
      'AUTH_DISABLED=true: the API answers without credentials; use this for local experiments only',
    );
  } else if (!config.jwt) {
    keys.list().then(
      (all) => {
        if (!all.some((k) => k.revokedAt === null)) {
          log.warn(
            { keysFile: config.keysFile },
            'no active API key and no JWKS: every request but the probes will get 401; create a key with `icecream keys create --name NAME --scopes predict`',
          );
        }
      },
      () => undefined, // the constructor has read the file already; a later read error shows per request
    );
  }
  const auth = createAuth({
    keys,
    jwt: config.jwt ? createJwtVerifier(config.jwt) : undefined,
    rateLimiter: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst),
    disabled: config.disabled,
    ...(onFailure ? { onFailure } : {}),
  });
  return { ...auth, keys, close: () => keys.close() };
}

/** `startServer`'s gate option: auth from the configuration, counting refusals in the metrics. */
export function gateFromConfig(config: Config['auth'], log: Logger): (metrics: Metrics) => Auth {
  return (metrics) => authFromConfig(config, log, (reason) => metrics.authFailures.inc({ reason }));
}
