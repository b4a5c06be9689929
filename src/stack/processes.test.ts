import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from './processes';

describe('port checks', () => {
  it('sees a port held by another listener as taken, and free once released', async () => {
    const port = await freePort();
    expect(await isPortFree(port)).toBe(true);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await isPortFree(port)).toBe(true);
  });
});
