import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import { syntheticSeries } from '../ml/testing';
import { gateFromConfig } from '../server/auth';
import { listenApi } from '../../test/helpers/api';
import { curlExample, localAccess } from './run';

let dir = '';
let config: Config;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-start-'));
  config = loadConfig({ ICECREAM_LOCAL_DIR: dir });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The API as `start` runs it (auth from the configuration), on a history ending last month. */
function serveLikeStart(): Promise<{ url: string; close: () => Promise<void> }> {
  const d = new Date();
  const start = new Date(Date.UTC(d.getUTCFullYear() - 5, d.getUTCMonth(), 1));
  const log = createLogger('silent');
  return listenApi(
    gateFromConfig(config.auth, log),
    log,
    syntheticSeries(60, 'monthly', 1, start.toISOString().slice(0, 10)),
  );
}

const sh = async (line: string): Promise<string> =>
  (await promisify(execFile)('/bin/sh', ['-c', line])).stdout;

describe('the API key `start` prints', () => {
  it('creates one key with every scope on the first run, and its curl line works as printed', async () => {
    const first = await localAccess(config);
    expect(first.curlKey).toMatch(/^icek_/);
    expect(first.lines.join('\n')).toContain(first.curlKey);
    expect(first.lines.join('\n')).toContain('shown only this once');
    const stored = fs.readFileSync(config.auth.keysFile, 'utf8');
    expect(stored).not.toContain(first.curlKey!.slice(22));
    expect(stored).toContain(
      '"scopes": [\n        "predict",\n        "feedback",\n        "admin",\n        "metrics"',
    );

    const api = await serveLikeStart();
    try {
      const answer = JSON.parse(await sh(curlExample(api.url, first.curlKey))) as {
        prediction?: number;
        model_version?: string;
      };
      expect(answer.model_version).toBe('1');
      expect(typeof answer.prediction).toBe('number');
      // without the key the same request is refused
      const refused = JSON.parse(await sh(curlExample(api.url))) as { error: { code: string } };
      expect(refused.error.code).toBe('unauthenticated');
    } finally {
      await api.close();
    }
  });

  it('says a key exists on later runs and how to make another, without a new key', async () => {
    await localAccess(config);
    const again = await localAccess(config);
    expect(again.curlKey).toBe('$ICECREAM_API_KEY');
    expect(again.lines.join('\n')).toMatch(/API keys\s+local in .*api-keys\.json/);
    expect(again.lines.join('\n')).toContain('npx icecream keys create --name me --scopes predict');
    expect(
      (JSON.parse(fs.readFileSync(config.auth.keysFile, 'utf8')) as { keys: unknown[] }).keys,
    ).toHaveLength(1);
    expect(curlExample('http://127.0.0.1:8080', again.curlKey)).toContain(
      '-H "Authorization: Bearer $ICECREAM_API_KEY"',
    );
  });

  it('prints no key when AUTH_DISABLED is set', async () => {
    const open = await localAccess(loadConfig({ ICECREAM_LOCAL_DIR: dir, AUTH_DISABLED: 'true' }));
    expect(open.curlKey).toBeUndefined();
    expect(fs.existsSync(config.auth.keysFile)).toBe(false);
  });
});
