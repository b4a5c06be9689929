/**
 * Content-addressed storage for the pipeline's intermediate outputs. Steps exchange
 * {@link ContentRef}s (sha256, size, URI), never paths on one host's disk:
 * - the bytes live in the MLflow run's artifacts, written and read through MLflow's artifact proxy
 *   (`mlflow-artifacts:/...`), which every worker host reaches with the tracking URI alone (and
 *   which is S3/MinIO behind the proxy in compose);
 * - every read is verified against the digest (a mismatch is permanent: DigestMismatchError);
 * - each worker keeps a local cache keyed by digest, bounded in bytes, least recently used first out.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MlflowClient } from '../mlflow/client';
import type { ContentRef } from './types';

export type DigestKind = 'sha256' | 'md5';

export function digestOf(kind: DigestKind, bytes: Uint8Array): string {
  return createHash(kind).update(bytes).digest('hex');
}

/** Bytes that do not have the digest they were referenced by. Not retryable. */
export class DigestMismatchError extends Error {
  constructor(
    readonly uri: string,
    readonly kind: DigestKind,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${uri} has ${kind} ${actual} but was referenced as ${kind} ${expected}`);
    this.name = 'DigestMismatchError';
  }
}

/**
 * A folder of files named by their digest (`<dir>/<kind>/<ab>/<digest>`), at most `maxBytes` in
 * total: after each write the least recently used files (by mtime, touched on every read) go
 * first. Reads verify the bytes; a corrupt file is deleted and reported as a miss.
 */
export class DigestCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  private file(kind: DigestKind, digest: string): string {
    if (!/^[0-9a-f]{32,64}$/.test(digest)) throw new Error(`not a ${kind} digest: ${digest}`);
    return path.join(this.dir, kind, digest.slice(0, 2), digest);
  }

  /** The verified bytes, or undefined when not cached (or corrupt, then removed). */
  read(kind: DigestKind, digest: string): Buffer | undefined {
    const file = this.file(kind, digest);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    if (digestOf(kind, bytes) !== digest) {
      fs.rmSync(file, { force: true });
      return undefined;
    }
    const now = new Date();
    fs.utimesSync(file, now, now);
    return bytes;
  }

  /** A local file with the verified bytes (for readers that take a path), or undefined. */
  pathOf(kind: DigestKind, digest: string): string | undefined {
    return this.read(kind, digest) ? this.file(kind, digest) : undefined;
  }

  /** Stores bytes under their digest (atomically), then evicts down to the bound. Returns the path. */
  write(kind: DigestKind, bytes: Uint8Array): string {
    const file = this.file(kind, digestOf(kind, bytes));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
    this.evict(file);
    return file;
  }

  /** Total bytes cached. */
  size(): number {
    return this.entries().reduce((sum, e) => sum + e.size, 0);
  }

  private entries(): { file: string; size: number; mtimeMs: number }[] {
    const out: { file: string; size: number; mtimeMs: number }[] = [];
    const visit = (dir: string): void => {
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const d of names) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) visit(p);
        else if (!d.name.endsWith('.tmp')) {
          const st = fs.statSync(p, { throwIfNoEntry: false });
          if (st) out.push({ file: p, size: st.size, mtimeMs: st.mtimeMs });
        }
      }
    };
    visit(this.dir);
    return out;
  }

  private evict(keep: string): void {
    const entries = this.entries().sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.file === keep) continue;
      fs.rmSync(e.file, { force: true });
      total -= e.size;
    }
  }
}

/** Step outputs in the MLflow run's artifacts, verified by sha256, cached locally by digest. */
export class ArtifactStore {
  constructor(
    private readonly mlflow: MlflowClient,
    readonly cache: DigestCache,
  ) {}

  /** Uploads `bytes` to `<artifactUri>/<relPath>` and returns its reference. Idempotent. */
  async put(artifactUri: string, relPath: string, bytes: Uint8Array): Promise<ContentRef> {
    await this.mlflow.uploadArtifact(artifactUri, relPath, bytes);
    this.cache.write('sha256', bytes);
    return {
      sha256: digestOf('sha256', bytes),
      size: bytes.byteLength,
      uri: `${artifactUri.replace(/\/+$/, '')}/${relPath}`,
    };
  }

  /**
   * The bytes of a reference: from the cache, else downloaded through the artifact proxy; both
   * verified against the sha256 and size.
   * @throws DigestMismatchError when the stored bytes are not the referenced ones
   */
  async get(ref: ContentRef): Promise<Buffer> {
    const cached = this.cache.read('sha256', ref.sha256);
    if (cached) return cached;
    const cut = ref.uri.lastIndexOf('/');
    const bytes = await this.mlflow.downloadArtifact(ref.uri.slice(0, cut), ref.uri.slice(cut + 1));
    const actual = digestOf('sha256', bytes);
    if (actual !== ref.sha256 || bytes.byteLength !== ref.size)
      throw new DigestMismatchError(ref.uri, 'sha256', ref.sha256, actual);
    this.cache.write('sha256', bytes);
    return bytes;
  }

  async getText(ref: ContentRef): Promise<string> {
    return (await this.get(ref)).toString('utf8');
  }
}
