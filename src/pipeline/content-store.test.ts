import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MlflowClient } from '../mlflow/client';
import { ArtifactStore, DigestCache, DigestMismatchError, digestOf } from './content-store';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'content-store-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('digest cache', () => {
  it('keys files by digest and returns verified bytes', () => {
    const cache = new DigestCache(path.join(dir, 'a'), 1000);
    const bytes = Buffer.from('hello\n');
    cache.write('md5', bytes);
    expect(cache.read('md5', 'b1946ac92492d2347c6235b4d2611184')).toEqual(bytes);
    expect(cache.read('md5', 'f'.repeat(32))).toBeUndefined();
  });

  it('drops a corrupted file instead of returning it', () => {
    const cache = new DigestCache(path.join(dir, 'b'), 1000);
    const file = cache.write('sha256', Buffer.from('model'));
    fs.writeFileSync(file, 'tampered');
    expect(cache.read('sha256', digestOf('sha256', Buffer.from('model')))).toBeUndefined();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('stays within its bound, evicting the least recently used first', () => {
    const cache = new DigestCache(path.join(dir, 'c'), 250);
    const blob = (c: string) => Buffer.alloc(100, c);
    const old = cache.write('sha256', blob('a'));
    fs.utimesSync(old, new Date(1000), new Date(1000));
    const used = cache.write('sha256', blob('b'));
    fs.utimesSync(used, new Date(2000), new Date(2000));
    cache.read('sha256', digestOf('sha256', blob('b'))); // touched: now the most recent
    cache.write('sha256', blob('c'));
    expect(cache.size()).toBeLessThanOrEqual(250);
    expect(cache.read('sha256', digestOf('sha256', blob('a')))).toBeUndefined();
    expect(cache.read('sha256', digestOf('sha256', blob('b')))).toBeDefined();
    expect(cache.read('sha256', digestOf('sha256', blob('c')))).toBeDefined();
  });
});

describe('artifact store', () => {
  const remote = new Map<string, Buffer>();
  const mlflow = {
    uploadArtifact: (root: string, rel: string, data: Uint8Array) => {
      remote.set(`${root}/${rel}`, Buffer.from(data));
      return Promise.resolve({ path: rel, size: data.byteLength });
    },
    downloadArtifact: (root: string, rel: string) => Promise.resolve(remote.get(`${root}/${rel}`)!),
  } as unknown as MlflowClient;
  const root = 'mlflow-artifacts:/1/run/artifacts';

  it('returns a reference any worker can read back and verify, without its own cache', async () => {
    const ref = await new ArtifactStore(mlflow, new DigestCache(path.join(dir, 'w1'), 1e6)).put(
      root,
      'pipeline/validate/series.json',
      Buffer.from('{"rows":1}'),
    );
    expect(ref).toEqual({
      sha256: digestOf('sha256', Buffer.from('{"rows":1}')),
      size: 10,
      uri: `${root}/pipeline/validate/series.json`,
    });
    const other = new ArtifactStore(mlflow, new DigestCache(path.join(dir, 'w2'), 1e6));
    expect(await other.getText(ref)).toBe('{"rows":1}');
  });

  it('refuses bytes that do not match the referenced digest', async () => {
    const ref = await new ArtifactStore(mlflow, new DigestCache(path.join(dir, 'w3'), 1e6)).put(
      root,
      'pipeline/train/forecaster.json',
      Buffer.from('model v1'),
    );
    remote.set(ref.uri, Buffer.from('model v2')); // changed behind our back
    const other = new ArtifactStore(mlflow, new DigestCache(path.join(dir, 'w4'), 1e6));
    await expect(other.get(ref)).rejects.toThrow(DigestMismatchError);
    await expect(other.get(ref)).rejects.toThrow(
      /forecaster\.json has sha256 [0-9a-f]{64} but was referenced as/,
    );
  });
});
