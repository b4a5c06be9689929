import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server';

/** An app answering with what Express gives its handlers; records each request's prototypes. */
function probeApp() {
  const app = express();
  const seen: { atArrival: object | null; inHandler: object | null }[] = [];
  let atArrival: object | null = null;
  app.use(express.json());
  app.post('/echo/:id', (req, res) => {
    seen.push({ atArrival, inHandler: Object.getPrototypeOf(req) as object | null });
    res
      .status(201)
      .set('x-seen', req.get('x-probe') ?? '')
      .json({ id: req.params.id, body: req.body as unknown });
  });
  const arrive = (req: http.IncomingMessage) =>
    (atArrival = Object.getPrototypeOf(req) as object | null);
  return { app, seen, arrive };
}

async function call(
  server: http.Server,
): Promise<{ status: number; seen: string | null; body: unknown }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await fetch(`http://127.0.0.1:${port}/echo/7`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probe': 'p' },
      body: JSON.stringify({ a: 1 }),
    });
    return { status: r.status, seen: r.headers.get('x-seen'), body: await r.json() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('createHttpServer', () => {
  it('serves the app as Express does, with no prototype change per request', async () => {
    const { app, seen, arrive } = probeApp();
    const server = createHttpServer(app);
    server.prependListener('request', arrive);
    expect(await call(server)).toEqual({
      status: 201,
      seen: 'p',
      body: { id: '7', body: { a: 1 } },
    });
    expect(seen[0]!.inHandler).toBe(app.request);
    expect(seen[0]!.atArrival).toBe(app.request);
  });

  it('differs from a plain server, where Express re-parents each request', async () => {
    const { app, seen, arrive } = probeApp();
    const server = http.createServer(app);
    server.prependListener('request', arrive);
    expect((await call(server)).status).toBe(201);
    expect(seen[0]!.inHandler).toBe(app.request);
    expect(seen[0]!.atArrival).toBe(http.IncomingMessage.prototype);
  });
});
