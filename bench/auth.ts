// Cost of authentication per request: the API-key verify path (cached and first sight), the whole
// authenticate + rate limit + scope middleware on a valid key, and JWT verification (RS256, ES256)
// against a JWKS served on 127.0.0.1. No HTTP in the loop: this is our own part of a request,
// to set against Express's own cost per request (about 175 µs at 5,700 req/s, issue 7).
//   npx tsc -p bench/tsconfig.auth.json && node .bench/build-auth/bench/auth.js
import { hash, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { FileKeyStore, RateLimiter, createAuth } from '../src/server/auth';
import { createJwtVerifier, type JwtOptions } from '../src/server/auth/jwt';
import { startTestIssuer } from '../test/helpers/jwks';

const runs = 5;

/** Median over `runs` of the time per operation, after one warm-up run. */
async function measure(
  name: string,
  ops: number,
  op: (i: number) => unknown,
): Promise<{ name: string; nsPerOp: number; opsPerSecond: number }> {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      const p = op(i);
      if (p instanceof Promise) await p;
    }
    if (r > 0) times.push(Number(process.hrtime.bigint() - t) / ops);
  }
  times.sort((a, b) => a - b);
  const nsPerOp = times[Math.floor(times.length / 2)]!;
  return { name, nsPerOp, opsPerSecond: 1e9 / nsPerOp };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-bench-auth-'));
  const keys = new FileKeyStore(path.join(dir, 'api-keys.json'), { flushIntervalMs: 60_000 });
  const { key } = await keys.create({ name: 'bench', scopes: ['predict'] });
  for (let i = 0; i < 20; i++) await keys.create({ name: `other-${i}`, scopes: ['predict'] });
  const wrongSecret = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');

  const auth = createAuth({ keys, rateLimiter: new RateLimiter(1e12, 1e12) });
  const scope = auth.requireScope('predict');
  const req = { path: '/v1/predict', headers: { authorization: `Bearer ${key}` } } as Request;
  const res = { locals: {}, setHeader: () => res } as unknown as Response;
  let failed = 0;
  const next: NextFunction = (err?: unknown) => {
    if (err) failed++;
  };

  const issuer = await startTestIssuer();
  const options: JwtOptions = {
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: issuer.audience,
    algorithms: ['RS256', 'ES256'],
  };
  const jwt = createJwtVerifier(options);
  // a clock a minute further at each call: every call misses the verified-token cache
  let clock = Date.now();
  const uncached = createJwtVerifier({ ...options, now: () => (clock += 61_000) });
  const year = 365 * 24 * 3600;
  const rs = await issuer.sign({ alg: 'RS256', expiresIn: year });
  const es = await issuer.sign({ alg: 'ES256', expiresIn: year });
  await jwt.verify(rs); // fetch the JWKS once
  await uncached.verify(rs);

  const results = [
    await measure('API key verify, cached (the hot path)', 1_000_000, () => keys.verify(key)),
    await measure('API key verify, wrong secret (HMAC-SHA256 each time)', 200_000, () =>
      keys.verify(wrongSecret),
    ),
    await measure('peer: one SHA-256 of the key (the floor of a keyed-hash cache)', 1_000_000, () =>
      hash('sha256', key, 'base64url'),
    ),
    await measure('peer: scrypt of the key (N=16384, r=8; what a KDF per request costs)', 10, () =>
      scryptSync(key, 'salt-salt-salt-1', 32),
    ),
    await measure('authenticate + rate limit + requireScope, valid key', 1_000_000, () => {
      auth.authenticate(req, res, () => scope(req, res, next));
    }),
    await measure('JWT verify RS256, first sight (signature check)', 2_000, () =>
      uncached.verify(rs),
    ),
    await measure('JWT verify ES256, first sight (signature check)', 2_000, () =>
      uncached.verify(es),
    ),
    await measure('JWT verify, same token again (remembered)', 200_000, () => jwt.verify(rs)),
  ];
  await issuer.close();
  await keys.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (failed > 0) throw new Error(`${failed} authentications failed in the benchmark`);

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    [
      `Authentication cost per request (${process.version}, ${cpu}; median of ${runs} runs)`,
      '',
      '| path | ns/op | ops/s |',
      '|---|---:|---:|',
      ...results.map(
        (r) =>
          `| ${r.name} | ${Math.round(r.nsPerOp).toLocaleString('en')} | ${Math.round(r.opsPerSecond).toLocaleString('en')} |`,
      ),
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
