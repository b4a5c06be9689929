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

  it('reads live windows as durations or counts, and refuses anything else', () => {
    expect(loadConfig({ LIVE_WINDOWS: '30m,7d,last50' }).live.windows).toEqual([
      { label: '30m', ms: 1_800_000 },
      { label: '7d', ms: 604_800_000 },
      { label: 'last50', count: 50 },
    ]);
    expect(() => loadConfig({ LIVE_WINDOWS: '1h,forever' })).toThrow(/LIVE_WINDOWS/);
  });

  it('keeps the canary off by default and refuses a share outside 0..1', () => {
    expect(loadConfig({}).canary).toMatchObject({ mode: 'off', share: 0.1 });
    expect(() => loadConfig({ CANARY_SHARE: '1.5' })).toThrow(/CANARY_SHARE/);
    expect(() => loadConfig({ CANARY_MODE: 'blue-green' })).toThrow(/CANARY_MODE/);
  });
});
