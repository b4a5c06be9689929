import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../../../test/helpers/jwks';
import { AuthError } from './errors';
import { createJwtVerifier, scopesOf } from './jwt';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

describe('createJwtVerifier', () => {
  it('names the client and keeps only our scope names', async () => {
    const verifier = createJwtVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.issuer,
      audience: issuer.audience,
      algorithms: ['RS256'],
    });
    const principal = await verifier.verify(
      await issuer.sign({ subject: 'shop-7', scope: 'openid predict feedback:write metrics' }),
    );
    expect(principal).toEqual({ id: 'jwt:shop-7', kind: 'jwt', scopes: ['predict', 'metrics'] });
    expect(scopesOf({ scope: ['predict'] })).toEqual([]);
  });

  it('remembers a verified token only until its exp, never past it', async () => {
    let t = Date.now();
    const verifier = createJwtVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.issuer,
      audience: issuer.audience,
      algorithms: ['RS256'],
      clockToleranceSeconds: 0,
      now: () => t,
    });
    const token = await issuer.sign({ expiresIn: 30 });
    expect((await verifier.verify(token)).id).toBe('jwt:client-1');
    t += 20_000;
    expect((await verifier.verify(token)).id).toBe('jwt:client-1');
    t += 15_000; // 35 s: past exp
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).reason).toBe('expired');
  });
});
