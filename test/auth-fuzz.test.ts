import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { FileKeyStore } from '../src/server/auth';
import { keysAndJwtGate, listenApi } from './helpers/api';
import { startTestIssuer, type TestIssuer } from './helpers/jwks';
import { random } from './helpers/random';

const requests = 2000;
const seed = 20261202;

let dir: string;
let keys: FileKeyStore;
let issuer: TestIssuer;
let closeApi: () => Promise<void>;
let port: number;
let validKey: string;
let validToken: string;
let metricsKey: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-fuzz-'));
  keys = new FileKeyStore(path.join(dir, 'api-keys.json'));
  validKey = (await keys.create({ name: 'fuzz', scopes: ['predict'] })).key;
  metricsKey = (await keys.create({ name: 'scraper', scopes: ['metrics'] })).key;
  await keys.create({ name: 'gone', scopes: ['predict'] });
  await keys.revoke('gone');
  issuer = await startTestIssuer();
  validToken = await issuer.sign();
  const api = await listenApi(keysAndJwtGate(keys, issuer), createLogger('silent'));
  closeApi = api.close;
  port = Number(new URL(api.url).port);
});
afterAll(async () => {
  await closeApi();
  await issuer.close();
  await keys.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Random credential headers: garbage, near-misses of valid keys and tokens, hostile JWTs. */
function generator(rand: () => number): () => Record<string, string> {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chars = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  const latin1 = Array.from({ length: 128 }, (_, i) => String.fromCharCode(128 + i)).join('');
  const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const mutate = (s: string) => {
    const i = int(s.length);
    switch (int(4)) {
      case 0:
        return s.slice(0, i);
      case 1:
        return s.slice(0, i) + pick([...b64url]) + s.slice(i + 1);
      case 2:
        return s + chars(b64url, 1 + int(5));
      default:
        return s.slice(0, i) + s.slice(i + 1);
    }
  };
  const hostileJwt = () => {
    const header = pick<unknown>([
      {
        alg: pick([
          'none',
          'None',
          'HS256',
          'RS256',
          'ES256',
          'PS256',
          'EdDSA',
          'RS1',
          '',
          null,
          7,
        ]),
      },
      { alg: 'RS256', kid: pick(['rs-1', 'es-1', 'nope', '../../etc/passwd', 42]) },
      { alg: 'RS256', kid: 'rs-1', crit: ['exp'], exp: 1 },
      { alg: 'RS256', kid: 'rs-1', b64: false, crit: ['b64'] },
      { alg: 'RS256', jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u' },
      { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } },
      [],
      'header',
    ]);
    const payload = pick<unknown>([
      { iss: issuer.issuer, aud: issuer.audience, sub: 'x', scope: 'predict admin', exp: 4e9 },
      { exp: pick(['tomorrow', -1, 1e308, null, [], {}]), nbf: pick([1e308, 'now', -1e308]) },
      { scope: pick([['predict'], 7, { predict: true }, 'predict '.repeat(200)]), exp: 4e9 },
      'not an object',
      null,
    ]);
    const signature = pick(['', chars(b64url, int(400)), validToken.split('.')[2]!]);
    return `${seg(header)}.${seg(payload)}.${signature}`;
  };
  const credential = (): string =>
    pick([
      () => chars(ascii, int(300)),
      () => chars(ascii + latin1, int(200)).trim(),
      () => `icek_${chars(b64url + '_', int(80))}`,
      () => `icek_${chars('0123456789abcdef', 16)}_${chars(b64url, 43)}`,
      () => mutate(validKey),
      () => pick([validKey, validToken, metricsKey]),
      () => mutate(validToken),
      () => `${chars(b64url, int(60))}.${chars(b64url, int(200))}.${chars(b64url, int(300))}`,
      hostileJwt,
      () => chars(b64url, 8000 + int(1000)),
      () => pick(['', ' ', '\t', '.', '..', '...', 'null', 'undefined', '{}']),
    ])();
  return () => {
    const c = credential();
    switch (int(5)) {
      case 0:
        return { authorization: `Bearer ${c}` };
      case 1:
        return { authorization: `${pick(['bearer', 'BEARER', 'Basic', 'Token', ''])} ${c}` };
      case 2:
        return { authorization: c };
      case 3:
        return { 'x-api-key': c };
      default:
        return { authorization: `Bearer  ${c}\t`, 'x-api-key': mutate(validKey) };
    }
  };
}

/** The routes behind a scope that answer in our error shape, taken in turn. */
const routes = [
  { method: 'POST', path: '/v1/predict' },
  { method: 'GET', path: '/v1/model' },
  { method: 'GET', path: '/metrics' },
] as const;

function post(
  agent: http.Agent,
  headers: Record<string, string>,
  route: (typeof routes)[number] = routes[0],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: route.path,
        method: route.method,
        agent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(route.method === 'POST' ? '{"date":"2015-01-01","temperature":20}' : undefined);
  });
}

describe('fuzzed credentials', () => {
  it(`answers ${requests} random credential headers on every scoped route with a 2xx or a clear 4xx, never a 5xx`, async () => {
    const next = generator(random(seed));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const statuses = new Map<number, number>();
    const unclear: string[] = [];
    const headerSets = Array.from({ length: requests }, next);
    for (let i = 0; i < headerSets.length; i += 8) {
      const batch = headerSets.slice(i, i + 8);
      const answers = await Promise.all(
        batch.map((h, j) => post(agent, h, routes[(i + j) % routes.length])),
      );
      answers.forEach(({ status, body }, j) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 400) {
          const error = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
          if (status >= 500 || !error?.code || !error.message) {
            unclear.push(`${status} ${body} for ${JSON.stringify(batch[j]).slice(0, 300)}`);
          }
        }
      });
    }
    agent.destroy();
    expect(unclear).toEqual([]);
    expect([...statuses.keys()].sort()).toEqual([200, 401, 403]);
    expect(statuses.get(401)).toBeGreaterThan(requests / 2);
    // still serving
    expect((await post(new http.Agent(), { authorization: `Bearer ${validKey}` })).status).toBe(
      200,
    );
  });
});
