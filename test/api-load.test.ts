import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { FileKeyStore } from '../src/server/auth';
import { keysAndJwtGate, listenApi } from './helpers/api';
import { startTestIssuer, type TestIssuer } from './helpers/jwks';
import { random } from './helpers/random';

// The whole API (real app, auth with API keys and JWTs from a local JWKS, metrics, request log)
// on a loopback port, under bounded fuzzing. The soak runs against the real server in
// serving.test.ts.

let dir: string;
let keys: FileKeyStore;
let issuer: TestIssuer;
let api: Awaited<ReturnType<typeof listenApi>>;
const credentials: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-load-'));
  keys = new FileKeyStore(path.join(dir, 'api-keys.json'));
  const all = (
    await keys.create({ name: 'all', scopes: ['predict', 'feedback', 'admin', 'metrics'] })
  ).key;
  const predictOnly = (await keys.create({ name: 'predict', scopes: ['predict'] })).key;
  const revoked = (await keys.create({ name: 'gone', scopes: ['predict'] })).key;
  await keys.revoke('gone');
  issuer = await startTestIssuer();
  credentials['none'] = {};
  credentials['all scopes'] = { authorization: `Bearer ${all}` };
  credentials['x-api-key'] = { 'x-api-key': all };
  credentials['predict only'] = { authorization: `Bearer ${predictOnly}` };
  credentials['revoked'] = { authorization: `Bearer ${revoked}` };
  credentials['unknown key'] = { authorization: `Bearer ${all.slice(0, -4)}AAAA` };
  credentials['malformed'] = { authorization: `Basic ${all}` };
  credentials['jwt'] = {
    authorization: `Bearer ${await issuer.sign({ scope: 'predict metrics' })}`,
  };
  credentials['jwt expired'] = {
    authorization: `Bearer ${await issuer.sign({ expiresIn: -3600 })}`,
  };
  credentials['jwt not yet valid'] = {
    authorization: `Bearer ${await issuer.sign({ notBefore: Math.floor(Date.now() / 1000) + 3600 })}`,
  };
  credentials['jwt wrong issuer'] = {
    authorization: `Bearer ${await issuer.sign({ issuer: 'https://evil.example/' })}`,
  };
  credentials['jwt wrong audience'] = {
    authorization: `Bearer ${await issuer.sign({ audience: 'other' })}`,
  };
  credentials['jwt forged'] = { authorization: `Bearer ${await issuer.sign({ forged: true })}` };
  credentials['jwt alg none'] = { authorization: `Bearer ${issuer.unsigned('predict')}` };
  credentials['jwt wrong scope'] = {
    authorization: `Bearer ${await issuer.sign({ scope: 'feedback' })}`,
  };
  api = await listenApi(keysAndJwtGate(keys, issuer), createLogger('silent'));
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
  await keys?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every route of the API, read from its own OpenAPI document. */
async function routes(): Promise<{ method: string; path: string }[]> {
  const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: p })),
  );
}

describe('the API under fuzzing (loopback, bounded)', () => {
  it(
    'answers 10,000 fuzzed requests on every route without a 5xx, each refusal with a clear error',
    { timeout: 240_000 },
    async () => {
      const rand = random(7);
      const int = (n: number) => Math.floor(rand() * n);
      const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
      const all = await routes();
      expect(all.length).toBeGreaterThanOrEqual(12);
      const values: unknown[] = [
        null,
        true,
        0,
        -1,
        1e308,
        -1e308,
        'NaN',
        'Infinity',
        '',
        'x',
        [],
        {},
        '2019-02-30',
        '2019-13-01',
        '9999-12-31',
        '0000-01-01',
        '2019-07',
        '2019-07-01T00:00:00Z',
        12.5,
        1e21,
        'ü',
        { $gt: 1 },
      ];
      const row = () => ({
        date:
          rand() < 0.6
            ? `20${10 + int(15)}-${String(1 + int(13)).padStart(2, '0')}-01`
            : pick(values),
        temperature: rand() < 0.6 ? rand() * 160 - 80 : pick(values),
        ...(rand() < 0.2 ? { covariates: { [String(pick(values))]: pick(values) } } : {}),
      });
      const bodies: (() => string)[] = [
        () => JSON.stringify(row()),
        () => JSON.stringify({ rows: Array.from({ length: int(5) }, row) }),
        () => JSON.stringify({ rows: Array.from({ length: 101 + int(50) }, row) }), // over the batch limit
        () =>
          JSON.stringify({
            prediction_id: pick([crypto.randomUUID(), 'x', 42, null]),
            actual: pick(values),
          }),
        () => JSON.stringify({ date: pick(values), actual: pick([...values, 120]) }),
        () =>
          JSON.stringify({
            items: Array.from({ length: int(4) }, () => ({
              date: pick(values),
              actual: pick(values),
            })),
          }),
        () =>
          JSON.stringify({
            mode: pick(['off', 'canary', 'shadow', 'blue', 1]),
            canary_share: pick(values),
          }),
        () => JSON.stringify({ version: pick(values), reason: pick(values) }),
        () =>
          JSON.stringify({
            dataframe_split: {
              columns: pick([['date', 'temperature'], ['x'], 'date']),
              data: [[pick(values), pick(values)]],
            },
          }),
        () => JSON.stringify({ dataframe_records: [row(), row()] }),
        () =>
          JSON.stringify({
            instances: pick([[row()], {}, 'x']),
            inputs: pick([undefined, { date: [] }]),
          }),
        () => JSON.stringify({ inputs: { date: [pick(values)], temperature: [pick(values), 1] } }),
        () => JSON.stringify(pick(values)),
        () => JSON.stringify(row()).slice(0, int(30)), // truncated JSON
        () => '{"date": "2019-07-01", "temperature": NaN}',
        () => `{"temperature": 1${'0'.repeat(400)}}`,
        () => 'x'.repeat(70 * 1024), // over the 64 kB body limit
      ];
      const contentTypes = [
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin-9',
        undefined,
      ];
      const credentialNames = Object.keys(credentials);
      const statuses = new Map<number, number>();
      const bad: string[] = [];
      let sent = 0;
      const worker = async (): Promise<void> => {
        while (sent < 10_000) {
          sent++;
          const r =
            rand() < 0.9
              ? pick(all)
              : {
                  method: pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
                  path: pick([
                    '/v1/predict',
                    '/nowhere',
                    '/v1/admin/traffic',
                    '/metrics/../openapi.json',
                  ]),
                };
          const withBody = r.method !== 'GET' && r.method !== 'HEAD';
          const contentType = pick(contentTypes);
          const credential = pick(credentialNames);
          const body = withBody ? pick(bodies)() : undefined;
          const res = await fetch(`${api.url}${r.path.replace('{version}', '1')}`, {
            method: r.method,
            headers: {
              ...credentials[credential],
              ...(contentType ? { 'content-type': contentType } : {}),
            },
            ...(body !== undefined ? { body } : {}),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${r.method} ${r.path} [${credential}, ${contentType}] ${body?.slice(0, 120)} -> ${res.status} ${text.slice(0, 200)}`;
          if (res.status >= 500) bad.push(where);
          else if (res.status >= 400) {
            // every refusal says what is wrong: ours {error: {code, message}}, MLflow's {error_code, message}
            const parsed = JSON.parse(text) as {
              error?: { code?: string; message?: string };
              message?: string;
            };
            const message = parsed.error?.message ?? parsed.message ?? '';
            if (message.length < 8) bad.push(`no clear message: ${where}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(bad.slice(0, 5), [...statuses].join(' ')).toEqual([]);
      // the mix reached every kind of answer: successes, each refusal
      for (const status of [200, 400, 401, 403, 404, 413, 415, 422])
        expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    },
  );
});
