import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../src/logger';
import {
  FileKeyStore,
  RateLimiter,
  createAuth,
  type AuthOptions,
  type AuthFailureReason,
} from '../src/server/auth';
import { createJwtVerifier } from '../src/server/auth/jwt';
import type { Metrics } from '../src/server/metrics';
import { freePort } from '../src/stack/processes';
import { listenApi } from './helpers/api';
import { startTestIssuer, type TestIssuer } from './helpers/jwks';

const body = JSON.stringify({ date: '2015-01-01', temperature: 20 });

const closers: (() => Promise<void>)[] = [];
/** The real app behind createAuth(options), refusals counted in its metrics. */
async function serve(
  options: Partial<AuthOptions>,
  log: Logger,
): Promise<{ url: string; metrics: Metrics }> {
  const api = await listenApi(
    (metrics) =>
      createAuth({
        keys,
        onFailure: (reason) => metrics.authFailures.inc({ reason }),
        ...options,
      }),
    log,
  );
  closers.push(api.close);
  return api;
}

interface Answer {
  status: number;
  headers: Headers;
  error: { code: string; message: string; request_id: string } | undefined;
}
async function call(
  url: string,
  headers: Record<string, string>,
  route = '/v1/predict',
): Promise<Answer> {
  const res = await fetch(`${url}${route}`, {
    method: route === '/v1/predict' ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...headers },
    ...(route === '/v1/predict' ? { body } : {}),
  });
  const json = (await res.json()) as { error?: Answer['error'] };
  return { status: res.status, headers: res.headers, error: json.error };
}
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

let dir: string;
let keys: FileKeyStore;
let issuer: TestIssuer;
let keyAll: string;
let keyMetrics: string;
let keyRevoked: string;
let url: string;
let metrics: Metrics;
const logLines: string[] = [];
/** icecream_auth_failures_total{reason} of an app (the main one by default). */
const failureCount = async (reason: AuthFailureReason, m = metrics): Promise<number> =>
  (await m.authFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-auth-'));
  keys = new FileKeyStore(path.join(dir, 'api-keys.json'));
  keyAll = (await keys.create({ name: 'all', scopes: ['predict', 'feedback', 'admin', 'metrics'] }))
    .key;
  keyMetrics = (await keys.create({ name: 'scraper', scopes: ['metrics'] })).key;
  keyRevoked = (await keys.create({ name: 'old', scopes: ['predict'] })).key;
  await keys.revoke('old');
  issuer = await startTestIssuer();
  const capture = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  ({ url, metrics } = await serve(
    {
      jwt: createJwtVerifier({
        jwksUrl: issuer.jwksUrl,
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ['RS256', 'ES256'],
      }),
      rateLimiter: new RateLimiter(10_000, 10_000),
    },
    pino({ level: 'debug' }, capture),
  ));
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await issuer.close();
  await keys.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('API keys on the prediction API', () => {
  it('answers a valid key in Authorization: Bearer and in X-API-Key', async () => {
    expect((await call(url, bearer(keyAll))).status).toBe(200);
    expect((await call(url, { 'x-api-key': keyAll })).status).toBe(200);
  });

  it('asks for credentials with a 401 and an RFC 6750 challenge when there are none', async () => {
    const before = await failureCount('missing');
    const r = await call(url, {});
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="icecream"');
    expect(r.error?.code).toBe('unauthenticated');
    expect(r.error?.message).toMatch(/authentication required/);
    expect(r.error?.request_id).toBeTruthy();
    expect(await failureCount('missing')).toBe(before + 1);
  });

  it.each([
    [
      'a Basic Authorization header',
      { authorization: 'Basic dXNlcjpwYXNz' },
      'malformed',
      /must be "Bearer/,
    ],
    ['an empty bearer', { authorization: 'Bearer ' }, 'malformed', /must be "Bearer/],
    [
      'two keys in X-API-Key',
      { 'x-api-key': 'icek_a, icek_b' },
      'malformed',
      /exactly one API key/,
    ],
    ['a truncated key', { authorization: 'Bearer icek_0123' }, 'malformed', /malformed/],
    [
      'neither a key nor a JWT',
      { authorization: 'Bearer hello' },
      'malformed',
      /neither an API key/,
    ],
    [
      'an unknown key',
      { authorization: `Bearer icek_0123456789abcdef_${'A'.repeat(43)}` },
      'unknown_key',
      /not known/,
    ],
  ] as const)('refuses %s with 401 invalid_token', async (_name, headers, reason, message) => {
    const before = await failureCount(reason);
    const r = await call(url, headers);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="icecream", error="invalid_token", error_description="/,
    );
    expect(r.error?.code).toBe('unauthenticated');
    expect(r.error?.message).toMatch(message);
    expect(await failureCount(reason)).toBe(before + 1);
  });

  it('refuses a revoked key with 401 saying so', async () => {
    const r = await call(url, bearer(keyRevoked));
    expect(r.status).toBe(401);
    expect(r.error?.message).toBe('the API key has been revoked');
    expect(await failureCount('revoked')).toBeGreaterThan(0);
  });

  it('refuses a key without the route scope with 403 insufficient_scope', async () => {
    const r = await call(url, bearer(keyMetrics));
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toMatch(
      /error="insufficient_scope".*scope="predict"/,
    );
    expect(r.error).toMatchObject({
      code: 'insufficient_scope',
      message: 'this route needs the scope "predict"; the credential has metrics',
    });
  });

  it('keeps the probes and the API document open, and each other route behind its scope', async () => {
    for (const open of ['/healthz', '/readyz', '/openapi.json']) {
      expect((await fetch(`${url}${open}`)).status, open).toBe(200);
    }
    expect((await fetch(`${url}/v1/model`)).status).toBe(401);
    expect((await fetch(`${url}/v1/model`, { headers: bearer(keyAll) })).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: bearer(keyMetrics) })).status).toBe(200);
    const predictOnly = bearer(await issuer.sign({ scope: 'predict' }));
    expect((await fetch(`${url}/metrics`, { headers: predictOnly })).status).toBe(403);
    // MLflow's scoring route answers refusals in MLflow's error shape
    const invocations = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs":[[20]]}',
    });
    expect(invocations.status).toBe(401);
    expect(await invocations.json()).toMatchObject({ error_code: 'PERMISSION_DENIED' });
  });

  it('sets the security headers on every answer, errors included', async () => {
    for (const r of [await call(url, bearer(keyAll)), await call(url, {})]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
  });
});

describe('OAuth2 bearer JWTs checked against a JWKS', () => {
  it('accepts RS256 and ES256 tokens with the scope, fetching the JWKS once', async () => {
    expect((await call(url, bearer(await issuer.sign({ alg: 'RS256' })))).status).toBe(200);
    expect((await call(url, bearer(await issuer.sign({ alg: 'ES256' })))).status).toBe(200);
    expect(issuer.fetches()).toBe(1);
  });

  const cases: [string, () => Promise<string>, AuthFailureReason, RegExp][] = [
    ['an expired token', () => issuer.sign({ expiresIn: -600 }), 'expired', /has expired/],
    ['a token without exp', () => issuer.sign({ expiresIn: undefined }), 'malformed', /no expiry/],
    [
      'a token not valid yet',
      () => issuer.sign({ notBefore: 600 }),
      'not_yet_valid',
      /not valid yet/,
    ],
    [
      'a token from another issuer',
      () => issuer.sign({ issuer: 'https://evil.example/' }),
      'wrong_issuer',
      /not issued by http:\/\/127\.0\.0\.1/,
    ],
    [
      'a token for another audience',
      () => issuer.sign({ audience: 'another-api' }),
      'wrong_audience',
      /not meant for audience icecream-api/,
    ],
    [
      'a forged RS256 token (signed by another key)',
      () => issuer.sign({ forged: true }),
      'bad_signature',
      /signature does not verify/,
    ],
    [
      'a forged ES256 token',
      () => issuer.sign({ alg: 'ES256', forged: true }),
      'bad_signature',
      /signature does not verify/,
    ],
    [
      'an unsigned alg "none" token',
      () => Promise.resolve(issuer.unsigned('predict')),
      'bad_algorithm',
      /algorithm is not accepted \(accepted: RS256, ES256\)/,
    ],
    [
      'an HS256 token (algorithm confusion)',
      () => issuer.hmacSigned('predict'),
      'bad_algorithm',
      /algorithm is not accepted/,
    ],
    [
      'a garbled token',
      () => Promise.resolve('bm90LWpzb24.e30.c2ln'),
      'malformed',
      /not a well-formed signed JWT/,
    ],
  ];
  it.each(cases)(
    'refuses %s with 401 naming the problem',
    async (_name, token, reason, message) => {
      const before = await failureCount(reason);
      const r = await call(url, bearer(await token()));
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      expect(r.error?.code).toBe('unauthenticated');
      expect(r.error?.message).toMatch(message);
      expect(await failureCount(reason)).toBe(before + 1);
    },
  );

  it('refuses a valid token without the route scope with 403', async () => {
    const r = await call(url, bearer(await issuer.sign({ scope: 'metrics feedback' })));
    expect(r.status).toBe(403);
    expect(r.error?.message).toBe(
      'this route needs the scope "predict"; the credential has metrics, feedback',
    );
    const none = await call(url, bearer(await issuer.sign({ scope: 'predict:invoke openid' })));
    expect(none.error?.message).toMatch(/has no scopes/);
  });

  it('refuses JWTs on a server without a JWKS, and answers 503 when the JWKS is down', async () => {
    const silent = createLogger('silent');
    const { url: keysOnly } = await serve({}, silent);
    const r = await call(keysOnly, bearer(await issuer.sign()));
    expect(r.status).toBe(401);
    expect(r.error?.message).toMatch(/API keys only/);

    const { url: down } = await serve(
      {
        jwt: createJwtVerifier({
          jwksUrl: `http://127.0.0.1:${await freePort()}/jwks.json`,
          issuer: issuer.issuer,
          audience: issuer.audience,
          algorithms: ['RS256'],
        }),
      },
      silent,
    );
    const unavailable = await call(down, bearer(await issuer.sign()));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(unavailable.error?.code).toBe('auth_unavailable');
  });
});

describe('rate limit, disabled auth and logs', () => {
  it('answers 429 with an integer Retry-After once a client spends its burst', async () => {
    const { url: limited, metrics: limitedMetrics } = await serve(
      { rateLimiter: new RateLimiter(0.2, 2) },
      createLogger('silent'),
    );
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(limited, bearer(keyAll))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const r = await call(limited, bearer(keyAll));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^[1-5]$/);
    expect(r.error?.code).toBe('rate_limited');
    expect(r.error?.message).toMatch(/limit 0\.2\/s, burst 2/);
    // another client has its own bucket
    expect((await call(limited, bearer(await issuer.sign()))).status).not.toBe(429);
    expect(await failureCount('rate_limited', limitedMetrics)).toBe(2);
  });

  it('answers without credentials when auth is disabled', async () => {
    const { url: open } = await serve({ disabled: true }, createLogger('silent'));
    expect((await call(open, {})).status).toBe(200);
  });

  it('never writes a key, a token or an Authorization value to the log', async () => {
    const token = await issuer.sign();
    const expired = await issuer.sign({ expiresIn: -600 });
    const secrets = [keyAll, keyRevoked, keyMetrics, token, expired, 'dXNlcjpwYXNz'];
    await call(url, bearer(keyAll));
    await call(url, { 'x-api-key': keyMetrics });
    await call(url, bearer(keyRevoked));
    await call(url, bearer(token));
    await call(url, bearer(expired));
    await call(url, { authorization: 'Basic dXNlcjpwYXNz' });
    await fetch(`${url}/v1/predict`, {
      method: 'POST',
      headers: { ...bearer(keyAll), 'content-type': 'application/json' },
      body: '{not json',
    });
    const requests = logLines.filter((l) => l.includes('"msg":"request"'));
    expect(requests.length).toBeGreaterThanOrEqual(7);
    expect(logLines.join('\n')).toContain('"client":"key:all"');
    for (const secret of secrets) {
      expect(logLines.some((l) => l.includes(secret))).toBe(false);
      // nor a recognisable piece of one
      expect(logLines.some((l) => l.includes(secret.slice(-20)))).toBe(false);
    }
    expect(logLines.some((l) => /authorization|x-api-key/i.test(l))).toBe(false);
  });
});
