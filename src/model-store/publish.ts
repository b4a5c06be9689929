import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MlflowClient } from '../mlflow/client';
import { bundleFiles, BundleIntegrityError } from './bundle';

/** The run artifact folder a bundle is published under. */
export const modelArtifactPath = 'model';

/** The model version tag that records the bundle's digest (sha256 of its checksum listing). */
export const digestTag = 'bundle.sha256';

export interface PublishRequest {
  registeredModel: string;
  runId: string;
  /** The run's artifact root (`mlflow-artifacts:/...`). */
  artifactUri: string;
  /** A bundle folder written by writeBundle. */
  bundleDir: string;
  /** More version tags (data md5, metrics, commit). */
  tags?: Record<string, string>;
}

export interface PublishResult {
  version: string;
  digest: string;
  source: string;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Publishes a bundle as a model version: uploads the folder to the run's `model/` artifacts,
 * checks on the server that every file arrived at its size and that the server's checksum listing
 * hashes to the local digest, then creates (or, on a retry, finds) the version registered from the
 * run and records the digest as its `bundle.sha256` tag. A version is created only after the upload
 * is verified, so a failure leaves no half-registered version. Idempotent.
 * @throws BundleIntegrityError (not retryable) when the local folder is not a bundle;
 *   MlflowArtifactIntegrityError (retryable) when the server holds other bytes; MLflow errors
 */
export async function publishBundle(
  mlflow: MlflowClient,
  req: PublishRequest,
): Promise<PublishResult> {
  const listingFile = path.join(req.bundleDir, bundleFiles.checksums);
  if (!fs.existsSync(listingFile))
    throw new BundleIntegrityError(req.bundleDir, `${bundleFiles.checksums} is missing`);
  const digest = sha256(fs.readFileSync(listingFile));
  await mlflow.uploadDirectory(req.artifactUri, req.bundleDir, modelArtifactPath);
  const remote = await mlflow.downloadArtifact(
    req.artifactUri,
    `${modelArtifactPath}/${bundleFiles.checksums}`,
  );
  if (sha256(remote) !== digest) {
    throw new BundleIntegrityError(
      req.bundleDir,
      `the checksum listing on the MLflow server hashes to ${sha256(remote)}, not ${digest}`,
    );
  }
  const source = `${req.artifactUri}/${modelArtifactPath}`;
  await mlflow.ensureRegisteredModel(req.registeredModel);
  const { version } = await mlflow.ensureModelVersionForRun({
    name: req.registeredModel,
    source,
    runId: req.runId,
    tags: { ...req.tags, [digestTag]: digest },
  });
  await mlflow.waitForModelVersionReady(req.registeredModel, version.version, 60_000);
  return { version: version.version, digest, source };
}
