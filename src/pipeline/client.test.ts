import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { freePort } from '../stack/processes';
import { TemporalUnreachableError, withTemporalClient } from './client';

describe('withTemporalClient', () => {
  it('names the address and how to start Temporal when no server answers', async () => {
    const port = await freePort(); // nothing listens there
    const config = loadConfig({ TEMPORAL_PORT: String(port) });
    let called = false;
    const attempt = withTemporalClient(config, () => {
      called = true;
      return Promise.resolve();
    });
    await expect(attempt).rejects.toBeInstanceOf(TemporalUnreachableError);
    await expect(attempt).rejects.toThrow(
      `cannot reach Temporal at 127.0.0.1:${port} (Failed to connect before the deadline): start it with \`icecream stack up\``,
    );
    expect(called).toBe(false);
  });
});
