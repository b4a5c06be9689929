import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import type { ModelVersion } from '../mlflow/types';
import { fromKeyValues } from '../mlflow/validation';
import { bundleFiles, readBundle, type LoadedBundle } from './bundle';
import { digestTag } from './publish';

/** Which version to fetch: the one an alias points at, or a version number. */
export type ModelSelector = { alias: string } | { version: string };

/** A registered version as the registry describes it. */
export interface ModelRef {
  name: string;
  version: string;
  /** The bundle's artifact URI. */
  source: string;
  /** The digest the registry recorded when the version was published. */
  digest: string;
  runId: string | undefined;
  aliases: string[];
  /** The version's tags (holdout metrics, decisions); absent when not read from the registry. */
  tags?: Record<string, string>;
}

/** A fetched, verified model. */
export interface StoredModel extends LoadedBundle {
  ref: ModelRef;
  /** The cache folder holding the bundle. */
  dir: string;
}

/**
 * The registry cannot vouch for a version (no recorded digest, no source, unknown version), or
 * the bytes it serves are not the ones published. Not retryable.
 */
export class ModelStoreError extends Error {
  constructor(
    message: string,
    readonly reason: 'unknown_version' | 'no_digest' | 'no_source' | 'digest_mismatch',
  ) {
    super(message);
    this.name = 'ModelStoreError';
  }
}

const digestPattern = /^[0-9a-f]{64}$/;

/**
 * Fetches model bundles from the MLflow registry into a local cache keyed by digest. A bundle is
 * used only when its checksum listing hashes to the digest the registry recorded at publishing,
 * and every file matches the listing: a bundle changed on the server after registration is
 * refused. Downloads go to a private folder renamed into place, so concurrent fetches (in one
 * process or several) never see or rewrite a half-written bundle. Keeps the `keep` most recently
 * used bundles.
 */
export class ModelStore {
  constructor(
    private readonly mlflow: MlflowClient,
    readonly registeredModel: string,
    readonly cacheDir: string,
    private readonly keep = 5,
  ) {}

  /**
   * The version a selector names, or undefined when the alias is not set (or the model does not
   * exist yet).
   * @throws ModelStoreError when the version is unknown or was published without a digest;
   *   MLflow errors (an unreachable server is retryable)
   */
  async resolve(selector: ModelSelector): Promise<ModelRef | undefined> {
    let mv: ModelVersion | undefined;
    if ('alias' in selector) {
      mv = await this.mlflow.tryGetModelVersionByAlias(this.registeredModel, selector.alias);
      if (!mv) return undefined;
    } else {
      mv = await this.mlflow
        .getModelVersion(this.registeredModel, selector.version)
        .catch((err: unknown) => {
          if (err instanceof MlflowNotFoundError)
            throw new ModelStoreError(
              `${this.registeredModel} has no version ${selector.version}`,
              'unknown_version',
            );
          throw err;
        });
    }
    const version = mv.version ?? ('version' in selector ? selector.version : '?');
    const where = `${this.registeredModel} version ${version}`;
    if (!mv.source) throw new ModelStoreError(`${where} has no source`, 'no_source');
    const tags = fromKeyValues(mv.tags);
    const digest = tags[digestTag];
    if (!digest || !digestPattern.test(digest)) {
      throw new ModelStoreError(
        `${where} has no recorded bundle digest (tag ${digestTag}); it was not published through the model store and cannot be verified`,
        'no_digest',
      );
    }
    return {
      name: this.registeredModel,
      version,
      source: mv.source,
      digest,
      runId: mv.run_id,
      aliases: mv.aliases ?? [],
      tags,
    };
  }

  /**
   * The verified bundle of `ref`, from the cache or downloaded.
   * @throws ModelStoreError (digest_mismatch) or BundleIntegrityError when the served bytes are
   *   not the published ones (not retryable); MLflow errors while downloading
   */
  async fetch(ref: ModelRef): Promise<StoredModel> {
    const dir = path.join(this.cacheDir, ref.digest);
    if (fs.existsSync(dir)) {
      try {
        const cached = this.verified(readBundle(dir), ref);
        const now = new Date();
        fs.utimesSync(dir, now, now);
        return { ...cached, ref, dir };
      } catch {
        fs.rmSync(dir, { recursive: true, force: true }); // a damaged cache entry: fetch again
      }
    }
    fs.mkdirSync(this.cacheDir, { recursive: true });
    const partial = path.join(
      this.cacheDir,
      `.partial-${ref.digest.slice(0, 12)}-${randomBytes(6).toString('hex')}`,
    );
    try {
      fs.mkdirSync(partial);
      await this.download(ref.source, partial);
      const bundle = this.verified(readBundle(partial), ref);
      try {
        fs.renameSync(partial, dir);
      } catch {
        // another fetch put the same digest in place first: identical content, keep theirs
      }
      this.evict(ref.digest);
      return { ...bundle, ref, dir };
    } finally {
      fs.rmSync(partial, { recursive: true, force: true });
    }
  }

  /** resolve() then fetch(); undefined when the alias is not set. */
  async load(selector: ModelSelector): Promise<StoredModel | undefined> {
    const ref = await this.resolve(selector);
    return ref ? this.fetch(ref) : undefined;
  }

  private verified(bundle: LoadedBundle, ref: ModelRef): LoadedBundle {
    if (bundle.digest !== ref.digest) {
      throw new ModelStoreError(
        `${ref.name} version ${ref.version}: the bundle's digest is ${bundle.digest} but the registry recorded ${ref.digest} when it was published; the bundle was changed after registration`,
        'digest_mismatch',
      );
    }
    return bundle;
  }

  /** Downloads the files the bundle's checksum listing names (readBundle checks them). */
  private async download(source: string, dir: string): Promise<void> {
    const listing = await this.mlflow.downloadArtifact(source, bundleFiles.checksums);
    fs.writeFileSync(path.join(dir, bundleFiles.checksums), listing);
    for (const line of listing.toString('utf8').split('\n')) {
      const name = line.split('  ')[1];
      if (!name || name.includes('/') || name.startsWith('.')) continue; // readBundle rejects what is missing
      fs.writeFileSync(path.join(dir, name), await this.mlflow.downloadArtifact(source, name));
    }
  }

  /** Removes all but the `keep` most recently used bundles (never `current`). */
  private evict(current: string): void {
    const entries = fs
      .readdirSync(this.cacheDir)
      .filter((d) => digestPattern.test(d) && d !== current)
      .map((d) => ({ d, t: fs.statSync(path.join(this.cacheDir, d)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { d } of entries.slice(Math.max(0, this.keep - 1))) {
      fs.rmSync(path.join(this.cacheDir, d), { recursive: true, force: true });
    }
  }
}
