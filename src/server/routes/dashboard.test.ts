import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger';
import { createApp } from '../app';
import { HttpError } from '../errors';
import { createMetrics } from '../metrics';
import { ModelHolder } from '../model-holder';
import type { Gate } from './types';

/** Refuses every scoped route: the dashboard shell must still load. */
const closedGateCheck: ReturnType<Gate['require']> = (_req, _res, next) =>
  next(new HttpError(401, 'unauthenticated', 'no key'));
const closedGate: Gate = { require: () => closedGateCheck, requireAny: () => closedGateCheck };

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

describe('GET /dashboard', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const holder = new ModelHolder(
      'production',
      { resolve: () => Promise.resolve(undefined), fetch: () => Promise.reject(new Error('none')) },
      createLogger('silent'),
    );
    const app = createApp({
      models: holder,
      log: createLogger('silent'),
      metrics: createMetrics({ defaultMetrics: false }),
      gate: closedGate,
      limits: { maxBatch: 10, maxBodyBytes: 1024 },
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('serves the page shell without a key, while its data routes stay closed', async () => {
    const res = await fetch(`${url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('id="chart-mae"');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
  });

  it('allows exactly its own inline script and style by hash, and nothing from elsewhere', async () => {
    const res = await fetch(`${url}/dashboard`);
    const csp = res.headers.get('content-security-policy')!;
    const html = await res.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`script-src ${sha256(script)}`);
    expect(csp).toContain(`style-src ${sha256(style)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');
  });

  it('is documented in the OpenAPI document as an open HTML route', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { security?: unknown; responses: Record<string, unknown> } }>;
    };
    const op = doc.paths['/dashboard']!.get!;
    expect(op.security).toEqual([]); // open: no credential
    expect(JSON.stringify(op.responses['200'])).toContain('text/html');
  });
});
