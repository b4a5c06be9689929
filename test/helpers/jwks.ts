import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenOptions {
  alg?: 'RS256' | 'ES256';
  /** Sign with a key that is not in the JWKS (under a kid that is). */
  forged?: boolean;
  issuer?: string;
  audience?: string;
  /** Seconds from now; undefined: no exp claim. Default 300. */
  expiresIn?: number | undefined;
  /** Seconds from now. */
  notBefore?: number;
  scope?: string;
  subject?: string;
}

/** A local identity provider: a JWKS on 127.0.0.1 (real HTTP) and a token signer. */
export interface TestIssuer {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** JWKS requests served so far. */
  fetches: () => number;
  sign(claims?: TokenOptions): Promise<string>;
  /** A token with `alg: none` and no signature. */
  unsigned(scope: string): string;
  /** A token signed with HS256 (an HMAC), which must never be accepted. */
  hmacSigned(scope: string): Promise<string>;
  close(): Promise<void>;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export async function startTestIssuer(): Promise<TestIssuer> {
  const jose = await import('jose');
  const rs = await jose.generateKeyPair('RS256', { extractable: true });
  const es = await jose.generateKeyPair('ES256', { extractable: true });
  const forger = await jose.generateKeyPair('RS256');
  const forgerEs = await jose.generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await jose.exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
      { ...(await jose.exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
    ],
  };
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/`;
  const audience = 'icecream-api';
  const now = () => Math.floor(Date.now() / 1000);
  const payload = (scope: string) => ({
    iss: issuer,
    aud: audience,
    sub: 'client-1',
    scope,
    exp: now() + 300,
  });
  return {
    jwksUrl: `${base}/.well-known/jwks.json`,
    issuer,
    audience,
    fetches: () => fetches,
    async sign(o = {}) {
      const alg = o.alg ?? 'RS256';
      const key =
        alg === 'RS256'
          ? o.forged
            ? forger.privateKey
            : rs.privateKey
          : o.forged
            ? forgerEs.privateKey
            : es.privateKey;
      const jwt = new jose.SignJWT({ scope: o.scope ?? 'predict' })
        .setProtectedHeader({ alg, kid: alg === 'RS256' ? 'rs-1' : 'es-1', typ: 'JWT' })
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? audience)
        .setSubject(o.subject ?? 'client-1')
        .setIssuedAt();
      const expiresIn = 'expiresIn' in o ? o.expiresIn : 300;
      if (expiresIn !== undefined) jwt.setExpirationTime(now() + expiresIn);
      if (o.notBefore !== undefined) jwt.setNotBefore(now() + o.notBefore);
      return jwt.sign(key);
    },
    unsigned(scope) {
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload(scope))}.`;
    },
    hmacSigned(scope) {
      return new jose.SignJWT(payload(scope))
        .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
        .sign(new TextEncoder().encode('a-shared-secret-nobody-should-accept-000'));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
