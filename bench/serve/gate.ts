import fs from 'node:fs';
import path from 'node:path';
import { repoRoot as projectRoot } from './root';
import { FileKeyStore, RateLimiter, createAuth } from '../../src/server/auth';
import type { Metrics } from '../../src/server/metrics';
import type { Gate } from '../../src/server/routes/types';

/** The benchmark's API key file: written by run.ts, read by every target process. */
const benchKeysFile = path.join(projectRoot, '.bench', 'api-keys.json');

/** A fresh key with the `predict` scope, for the load generator's Authorization header. */
export async function createBenchKey(): Promise<string> {
  fs.rmSync(benchKeysFile, { force: true });
  const store = new FileKeyStore(benchKeysFile);
  const { key } = await store.create({ name: 'bench', scopes: ['predict'] });
  await store.close();
  return key;
}

/**
 * The gate the benchmarked API runs with: the service's own (API key verified from the key file,
 * a per-client token bucket, the scope check), with a limit no run reaches.
 */
export function benchGate(metrics: Metrics): Gate {
  return createAuth({
    keys: new FileKeyStore(benchKeysFile),
    rateLimiter: new RateLimiter(1e9, 1e9),
    onFailure: (reason) => metrics.authFailures.inc({ reason }),
  });
}
