import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBuildInfo } from '../config';
import { dataPinState } from './run-references';
import { collectProvenance } from './provenance';

const dirs: string[] = [];
function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('collectProvenance', () => {
  it('records the commit and lock hashes the image build set when there is no .git and no lock', async () => {
    const build = loadBuildInfo({
      ICECREAM_GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
      ICECREAM_PACKAGE_LOCK_SHA256: 'a'.repeat(64),
      ICECREAM_PYTHON_TOOLS_LOCK_SHA256: 'b'.repeat(64),
    });
    const tags = await collectProvenance(folder(), 'test', {}, build);
    expect(tags['mlflow.source.git.commit']).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(tags['mlflow.source.git.dirty']).toBe('unknown');
    expect(tags['code.package_lock_sha256']).toBe('a'.repeat(64));
    expect(tags['code.python_tools_lock_sha256']).toBe('b'.repeat(64));
  });

  it('prefers the hash of a lock file that is there over the build value', async () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
    const tags = await collectProvenance(dir, 'test', {}, loadBuildInfo({}));
    expect(tags['code.package_lock_sha256']).toBe(
      createHash('sha256').update('{"lockfileVersion":3}\n').digest('hex'),
    );
    expect(tags['code.python_tools_lock_sha256']).toBe('missing');
    expect(tags['mlflow.source.git.commit']).toBe('unknown');
  });
});

describe('loadBuildInfo', () => {
  it('treats empty build variables (an image built without the args) as unset', () => {
    expect(loadBuildInfo({ ICECREAM_GIT_COMMIT: '', ICECREAM_PACKAGE_LOCK_SHA256: '' })).toEqual({
      gitCommit: undefined,
      gitDirty: undefined,
      dataDvcSha256: undefined,
      packageLockSha256: undefined,
      pythonToolsLockSha256: undefined,
    });
  });
});

describe('in the image (no .git)', () => {
  const build = loadBuildInfo({
    ICECREAM_GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
    ICECREAM_GIT_DIRTY: 'false',
    ICECREAM_DATA_DVC_SHA256: createHash('sha256').update('outs:\n- md5: abc\n').digest('hex'),
  });

  it('records the clean flag the build set', async () => {
    const tags = await collectProvenance(folder(), 'test', {}, build);
    expect(tags['mlflow.source.git.dirty']).toBe('false');
  });

  it("pins the data when data.dvc is the build's, and says so when it is not", async () => {
    const dir = folder();
    const dvcFile = path.join(dir, 'data.dvc');
    fs.writeFileSync(dvcFile, 'outs:\n- md5: abc\n');
    expect(await dataPinState(dvcFile, build)).toMatchObject({ pinned: true });
    fs.writeFileSync(dvcFile, 'outs:\n- md5: def\n');
    expect(await dataPinState(dvcFile, build)).toEqual({
      pinned: false,
      reason: 'data.dvc differs from the one the image was built with',
    });
  });
});
