import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataHashMismatchError, DvcFileError, md5File, readDvcFile, verifyDataset } from './dvc';

// md5("hello\n") = b1946ac92492d2347c6235b4d2611184 (coreutils `md5sum`)
const helloMd5 = 'b1946ac92492d2347c6235b4d2611184';

describe('DVC dataset references', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvc-test-'));
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'sales.csv'), 'hello\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const writeDvc = (md5: string) => {
    const file = path.join(dir, 'data.dvc');
    fs.writeFileSync(file, `outs:\n- md5: ${md5}\n  size: 6\n  hash: md5\n  path: data/sales.csv\n`);
    return file;
  };

  it('computes the md5 DVC pins', async () => {
    expect(await md5File(path.join(dir, 'data', 'sales.csv'))).toBe(helloMd5);
  });

  it('resolves the pinned path next to the .dvc file', () => {
    const ref = readDvcFile(writeDvc(helloMd5));
    expect(ref).toMatchObject({ path: path.join(dir, 'data', 'sales.csv'), md5: helloMd5, size: 6 });
  });

  it('accepts a file that matches its pin', async () => {
    const ref = await verifyDataset(path.join(dir, 'data', 'sales.csv'), writeDvc(helloMd5));
    expect(ref.md5).toBe(helloMd5);
  });

  it('rejects a changed file and names both hashes', async () => {
    const pinned = '0123456789abcdef0123456789abcdef';
    const check = verifyDataset(path.join(dir, 'data', 'sales.csv'), writeDvc(pinned));
    await expect(check).rejects.toBeInstanceOf(DataHashMismatchError);
    await expect(check).rejects.toThrow(new RegExp(`${helloMd5}.*${pinned}`));
  });

  it('rejects a .dvc file without an md5', () => {
    const file = path.join(dir, 'bad.dvc');
    fs.writeFileSync(file, 'outs:\n- path: data/sales.csv\n');
    expect(() => readDvcFile(file)).toThrow(DvcFileError);
    expect(() => readDvcFile(file)).toThrow(/md5/);
  });

  it('rejects a data path the .dvc file does not pin', async () => {
    fs.writeFileSync(path.join(dir, 'other.csv'), 'hello\n');
    await expect(verifyDataset(path.join(dir, 'other.csv'), writeDvc(helloMd5))).rejects.toThrow(/pins/);
  });
});
