/**
 * The dataset by its DVC md5, on any worker host: from the worker's digest cache, else from the
 * workspace file when its bytes have that md5, else fetched from the DVC remote (`dvc fetch` of
 * the .dvc file into DVC's cache when it still pins that md5, else the object by its md5 alone;
 * local `dvc-storage/` by default, S3 in compose). Every path verifies the md5, so a step reads
 * exactly the bytes ingest pinned.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataNotInRemoteError, defaultDvcRemote, fetchByMd5 } from '../data/dvc-fetch';
import {
  DataHashMismatchError,
  DvcCommandError,
  readDvcFile,
  DvcFileError,
  type Dvc,
} from '../data/dvc';
import { digestOf, type DigestCache } from './content-store';
import type { IngestResult } from './types';

/** The pinned bytes are nowhere: not cached, not in the workspace, not in the DVC remote. Not retryable. */
export class DatasetUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetUnavailableError';
  }
}

export class DatasetSource {
  constructor(
    private readonly projectRoot: string,
    private readonly cache: DigestCache,
    /** the `dvc` CLI, for fetching from the remote; undefined: no remote access */
    private readonly dvc: Dvc | undefined,
  ) {}

  private abs(p: string): string {
    return path.resolve(this.projectRoot, p);
  }

  private rel(p: string): string {
    const r = path.relative(this.projectRoot, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r;
  }

  /**
   * Ingest: the md5 the .dvc file pins for `dataPath` (or the given `md5`, a recorded dataset the
   * pin has since moved on from), with the bytes made available (and cached) on this host. A
   * workspace file that exists but differs from the pin is the user's data, not ours to replace:
   * that fails with both hashes.
   * @throws DvcFileError, DataHashMismatchError, DatasetUnavailableError
   */
  async pin(dataPath: string, dvcFile: string, md5?: string): Promise<IngestResult> {
    const pinned = readDvcFile(this.abs(dvcFile));
    if (path.resolve(this.abs(dataPath)) !== pinned.path)
      throw new DvcFileError(pinned.dvcFile, `pins ${pinned.path}, not ${this.abs(dataPath)}`);
    if (md5 === undefined && fs.existsSync(pinned.path)) {
      const actual = digestOf('md5', fs.readFileSync(pinned.path));
      if (actual !== pinned.md5)
        throw new DataHashMismatchError(pinned.path, pinned.md5, actual, pinned.dvcFile);
    }
    const ref = {
      md5: md5 ?? pinned.md5,
      sha256: '',
      size: 0,
      dataPath: this.rel(pinned.path),
      dvcFile: this.rel(pinned.dvcFile),
    };
    const bytes = await this.bytes(ref);
    return { ...ref, sha256: digestOf('sha256', bytes), size: bytes.byteLength };
  }

  /**
   * A local file holding exactly the bytes of `ref` (md5 verified), for readers that take a path.
   * @throws DatasetUnavailableError when no source has those bytes
   */
  async file(ref: Pick<IngestResult, 'md5' | 'dataPath' | 'dvcFile'>): Promise<string> {
    await this.bytes(ref);
    const file = this.cache.pathOf('md5', ref.md5);
    if (!file) throw new DatasetUnavailableError(`md5 ${ref.md5} vanished from the cache`);
    return file;
  }

  private async bytes(ref: Pick<IngestResult, 'md5' | 'dataPath' | 'dvcFile'>): Promise<Buffer> {
    const cached = this.cache.read('md5', ref.md5);
    if (cached) return cached;
    const workspace = this.abs(ref.dataPath);
    let found: string | null = null;
    if (fs.existsSync(workspace)) {
      const bytes = fs.readFileSync(workspace);
      found = digestOf('md5', bytes);
      if (found === ref.md5) {
        this.cache.write('md5', bytes);
        return bytes;
      }
    }
    const fromRemote = await this.fetchFromRemote(ref);
    if (fromRemote) return fromRemote;
    throw new DatasetUnavailableError(
      `no copy of the data with md5 ${ref.md5}: ${found ? `${ref.dataPath} now has md5 ${found}` : `${ref.dataPath} is missing`}, and the DVC remote does not have it`,
    );
  }

  /**
   * From the default DVC remote: `dvc fetch` of the .dvc file into DVC's cache (files/md5/ab/cdef...)
   * when it pins `ref.md5`, else the object by its md5 alone (a recorded dataset the pin has
   * moved on from).
   */
  private async fetchFromRemote(
    ref: Pick<IngestResult, 'md5' | 'dataPath' | 'dvcFile'>,
  ): Promise<Buffer | undefined> {
    if (!this.dvc) return undefined;
    const dvcFile = this.abs(ref.dvcFile);
    const bytes =
      fs.existsSync(dvcFile) && readDvcFile(dvcFile).md5 === ref.md5
        ? await this.fetchPinned(this.dvc, dvcFile, ref.md5)
        : await this.fetchByMd5(this.dvc, ref);
    if (!bytes || digestOf('md5', bytes) !== ref.md5) return undefined;
    this.cache.write('md5', bytes);
    return bytes;
  }

  private async fetchPinned(dvc: Dvc, dvcFile: string, md5: string): Promise<Buffer | undefined> {
    try {
      await dvc.fetch([dvcFile]);
    } catch (err) {
      if (err instanceof DvcCommandError && /missing|not found|does not exist/i.test(err.stderr))
        return undefined;
      throw err; // a remote that is down: transient, retried
    }
    const cacheDir = (await dvc.cacheDir()) ?? path.join(this.projectRoot, '.dvc', 'cache');
    const object = path.join(cacheDir, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
    return fs.existsSync(object) ? fs.readFileSync(object) : undefined;
  }

  private async fetchByMd5(
    dvc: Dvc,
    ref: Pick<IngestResult, 'md5' | 'dataPath'>,
  ): Promise<Buffer | undefined> {
    const remote = await defaultDvcRemote(dvc.bin, dvc.cwd, dvc.env);
    if (!remote) return undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-dataset-'));
    try {
      const got = await fetchByMd5(
        dvc.bin,
        ref.md5,
        [remote],
        dir,
        path.basename(ref.dataPath) || 'data.csv',
        dvc.env,
      );
      return fs.readFileSync(got.path);
    } catch (err) {
      if (err instanceof DataNotInRemoteError) return undefined;
      throw err;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
