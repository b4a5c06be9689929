import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('uses local defaults and derives URLs from the ports', () => {
    const c = loadConfig({ TEMPORAL_PORT: '17233', MLFLOW_PORT: '15000' });
    expect(c.temporal.address).toBe('127.0.0.1:17233');
    expect(c.mlflow.trackingUri).toBe('http://127.0.0.1:15000');
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 8080 });
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ MLFLOW_TRACKING_URI: '', TEMPORAL_ADDRESS: '', API_PORT: '' });
    expect(c.mlflow.trackingUri).toBe('http://127.0.0.1:5000');
    expect(c.api.port).toBe(8080);
  });

  it('lists every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ API_PORT: 'eighty', MLFLOW_PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toContain('API_PORT');
    expect(issues).toContain('MLFLOW_PORT');
    expect(issues).toContain('LOG_LEVEL');
  });

  it('strips a trailing slash from the tracking URI', () => {
    expect(
      loadConfig({ MLFLOW_TRACKING_URI: 'https://mlflow.example.com/' }).mlflow.trackingUri,
    ).toBe('https://mlflow.example.com');
  });

  it('points at the local PostgreSQL on PG_PORT (5433 by default) unless DATABASE_URL is set', () => {
    expect(loadConfig({}).postgres).toEqual({
      port: 5433,
      url: 'postgres://icecream:icecream-local-only@127.0.0.1:5433/icecream',
      external: false,
    });
    expect(loadConfig({ PG_PORT: '15433', DATABASE_URL: '' }).postgres.url).toContain(
      '127.0.0.1:15433/icecream',
    );
    const external = 'postgres://app:secret@db.example.com:5432/icecream?sslmode=require';
    expect(loadConfig({ DATABASE_URL: external }).postgres).toMatchObject({
      url: external,
      external: true,
    });
  });

  it('turns authentication on by default, with the key file under the local folder', () => {
    const c = loadConfig({ ICECREAM_LOCAL_DIR: '/tmp/icecream-local' });
    expect(c.auth).toEqual({
      disabled: false,
      keysFile: '/tmp/icecream-local/api-keys.json',
      jwt: undefined,
      rateLimit: { perSecond: 1000, burst: 2000 },
    });
    expect(loadConfig({ AUTH_DISABLED: 'true' }).auth.disabled).toBe(true);
  });

  it('turns JWTs on with AUTH_JWKS_URL, and then needs the issuer and the audience', () => {
    const jwt = {
      AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://idp.example.com/',
      AUTH_JWT_AUDIENCE: 'icecream-api',
    };
    expect(loadConfig(jwt).auth.jwt).toEqual({
      jwksUrl: jwt.AUTH_JWKS_URL,
      issuer: jwt.AUTH_JWT_ISSUER,
      audience: jwt.AUTH_JWT_AUDIENCE,
      algorithms: ['RS256', 'ES256'],
    });
    expect(() => loadConfig({ AUTH_JWKS_URL: jwt.AUTH_JWKS_URL })).toThrow(
      /AUTH_JWT_ISSUER: required when AUTH_JWKS_URL is set\n\s+AUTH_JWT_AUDIENCE: required/,
    );
  });

  it('accepts asymmetric JWT algorithms only, never none or an HMAC', () => {
    expect(loadConfig({ AUTH_JWT_ALGORITHMS: 'ES256, PS256' }).auth.jwt).toBeUndefined();
    for (const alg of ['none', 'HS256', 'RS256,none']) {
      expect(() => loadConfig({ AUTH_JWT_ALGORITHMS: alg })).toThrow(
        /AUTH_JWT_ALGORITHMS.*is not an accepted algorithm \(asymmetric only/,
      );
    }
  });

  it('names bad auth and rate-limit values', () => {
    expect(() =>
      loadConfig({ AUTH_DISABLED: 'maybe', RATE_LIMIT_PER_SECOND: '-1', AUTH_JWKS_URL: 'ftp://x' }),
    ).toThrow(
      /AUTH_DISABLED: must be true or false[\s\S]*AUTH_JWKS_URL[\s\S]*RATE_LIMIT_PER_SECOND/,
    );
  });

  it('reads live windows as durations or counts, and refuses anything else', () => {
    expect(loadConfig({ LIVE_WINDOWS: '30m,7d,last50' }).live.windows).toEqual([
      { label: '30m', ms: 1_800_000 },
      { label: '7d', ms: 604_800_000 },
      { label: 'last50', count: 50 },
    ]);
    expect(() => loadConfig({ LIVE_WINDOWS: '1h,forever' })).toThrow(/LIVE_WINDOWS/);
  });

  it('judges live MAE for retraining on a live window: the first count window by default', () => {
    expect(loadConfig({}).live.retrain).toEqual({ ratio: 1.5, minLabels: 20, window: 'last100' });
    expect(loadConfig({ LIVE_WINDOWS: '1h,7d' }).live.retrain.window).toBe('7d');
    expect(loadConfig({ LIVE_MAE_RETRAIN_WINDOW: '24h' }).live.retrain.window).toBe('24h');
    expect(() => loadConfig({ LIVE_MAE_RETRAIN_WINDOW: 'last7' })).toThrow(
      /LIVE_MAE_RETRAIN_WINDOW: "last7" must be one of LIVE_WINDOWS \(1h, 24h, 7d, last100\)/,
    );
    expect(() => loadConfig({ LIVE_MAE_RETRAIN_RATIO: '-1' })).toThrow(/LIVE_MAE_RETRAIN_RATIO/);
  });

  it('reads the retraining input overrides as one JSON object', () => {
    expect(loadConfig({}).retrain.input).toEqual({});
    expect(loadConfig({ RETRAIN_INPUT: '{"budget":3}' }).retrain.input).toEqual({ budget: 3 });
    expect(() => loadConfig({ RETRAIN_INPUT: '[1]' })).toThrow(/RETRAIN_INPUT: must be one JSON/);
    expect(() => loadConfig({ RETRAIN_INPUT: '{budget' })).toThrow(/RETRAIN_INPUT/);
  });

  it('keeps the canary off by default and refuses a share outside 0..1', () => {
    expect(loadConfig({}).canary).toMatchObject({ mode: 'off', share: 0.1 });
    expect(() => loadConfig({ CANARY_SHARE: '1.5' })).toThrow(/CANARY_SHARE/);
    expect(() => loadConfig({ CANARY_MODE: 'blue-green' })).toThrow(/CANARY_MODE/);
  });
});
