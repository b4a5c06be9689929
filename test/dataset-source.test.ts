import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { DataHashMismatchError, Dvc, md5File } from '../src/data/dvc';
import { DigestCache, digestOf } from '../src/pipeline/content-store';
import { DatasetSource, DatasetUnavailableError } from '../src/pipeline/dataset-source';
import { toolPaths } from '../src/stack/tools';

const run = promisify(execFile);

// A worker host that has neither the data file nor DVC's cache: the real `dvc` (pinned, from
// .tools/) brings the bytes back from a local remote, by the .dvc pin or by a recorded md5 alone.
describe('the dataset by its md5 on a host without the file', () => {
  const config = loadConfig();
  const dvcBin = toolPaths(config.toolsDir).dvc;
  let root: string;
  let v1: { md5: string; bytes: Buffer };
  let v2: { md5: string; bytes: Buffer };
  const dvc = (...args: string[]) =>
    run(dvcBin, args, { cwd: root, env: { ...config.childEnv, DVC_NO_ANALYTICS: '1' } });
  /** a fresh host: empty digest cache, no DVC cache, no workspace file */
  const freshSource = () => {
    fs.rmSync(path.join(root, '.dvc', 'cache'), { recursive: true, force: true });
    fs.rmSync(path.join(root, 'data.csv'), { force: true });
    return new DatasetSource(
      root,
      new DigestCache(fs.mkdtempSync(path.join(root, '..', 'cache-')), 64 * 1024 * 1024),
      new Dvc(dvcBin, root, config.childEnv),
    );
  };

  beforeAll(async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-dataset-source-'));
    root = path.join(top, 'repo');
    fs.mkdirSync(root);
    await dvc('init', '--no-scm', '--quiet');
    await dvc('remote', 'add', '--default', 'storage', path.join(top, 'remote'));
    const add = async (text: string) => {
      fs.writeFileSync(path.join(root, 'data.csv'), text);
      await dvc('add', '--quiet', 'data.csv');
      await dvc('push', '--quiet');
      return { md5: await md5File(path.join(root, 'data.csv')), bytes: Buffer.from(text) };
    };
    v1 = await add('date,sales\n2020-01-01,10\n');
    v2 = await add('date,sales\n2020-01-01,11\n'); // the pin has moved on to v2
  }, 120_000);

  afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

  it('fetches what the .dvc file pins through `dvc fetch`, verified and cached', async () => {
    const source = freshSource();
    const ref = await source.pin('data.csv', 'data.csv.dvc');
    expect(ref).toMatchObject({ md5: v2.md5, sha256: digestOf('sha256', v2.bytes) });
    expect(fs.readFileSync(await source.file(ref))).toEqual(v2.bytes);
  }, 60_000);

  it('fetches a recorded md5 the pin has moved on from by its md5 alone', async () => {
    const source = freshSource();
    const ref = await source.pin('data.csv', 'data.csv.dvc', v1.md5);
    expect(ref).toMatchObject({ md5: v1.md5, size: v1.bytes.length });
    expect(fs.readFileSync(await source.file(ref))).toEqual(v1.bytes);
  }, 60_000);

  it('names the md5 that no source has, and a workspace file that differs from its pin', async () => {
    const missing = '0123456789abcdef0123456789abcdef';
    await expect(freshSource().pin('data.csv', 'data.csv.dvc', missing)).rejects.toThrow(
      new DatasetUnavailableError(
        `no copy of the data with md5 ${missing}: data.csv is missing, and the DVC remote does not have it`,
      ),
    );
    const source = freshSource();
    fs.writeFileSync(path.join(root, 'data.csv'), 'edited by hand\n');
    await expect(source.pin('data.csv', 'data.csv.dvc')).rejects.toBeInstanceOf(
      DataHashMismatchError,
    );
  }, 60_000);
});
