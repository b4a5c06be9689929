import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  FORECASTER_FORMAT,
  FORECASTER_FORMAT_VERSION,
  parseForecaster,
  parseTrainingReference,
  trainingReference,
  type Forecaster,
  type Series,
  type TrainingReference,
} from '../ml/serving';
import { readSeries, writeSeries } from '../data/series-file';

/**
 * The model bundle: one folder, logged to MLflow as the run's `model/` artifact and loaded by the
 * prediction server. Files:
 * - `MLmodel`: MLflow's model descriptor, so the MLflow UI shows the folder as a model;
 * - `forecaster.json`: the serialized forecaster (format `icecream-forecaster`, checksum inside);
 * - `feature_spec.json`: the features the model computes (also inside forecaster.json), to read;
 * - `history.json`: the sales history the server seeds its lag features from;
 * - `reference.json`: the training reference for drift checks (quantile sketches of the
 *   temperature, the sales and the model's features over the history; see `trainingReference`).
 *   Bundles written before it have none;
 * - `checksums.sha256`: sha256 of every other file (`sha256sum` format), verified on load.
 */
export const bundleFiles = {
  mlmodel: 'MLmodel',
  forecaster: 'forecaster.json',
  featureSpec: 'feature_spec.json',
  history: 'history.json',
  reference: 'reference.json',
  checksums: 'checksums.sha256',
} as const;

/** A bundle whose files are missing or do not match their checksums. Not retryable. */
export class BundleIntegrityError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`model bundle ${dir}: ${reason}`, options);
    this.name = 'BundleIntegrityError';
  }
}

export interface LoadedBundle {
  forecaster: Forecaster;
  history: Series;
  /** The training reference for drift checks; absent in bundles written before it existed. */
  reference?: TrainingReference;
  /** sha256 of checksums.sha256: one value that identifies the whole bundle. */
  digest: string;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes a bundle folder; returns the bundle digest. */
export function writeBundle(
  dir: string,
  forecasterText: string,
  history: Series,
  meta: { runId?: string; mlflowVersion?: string } = {},
): string {
  fs.mkdirSync(dir, { recursive: true });
  const mlmodel = {
    artifact_path: 'model',
    flavors: {
      icecream: {
        format: FORECASTER_FORMAT,
        format_version: FORECASTER_FORMAT_VERSION,
        data: bundleFiles.forecaster,
        history: bundleFiles.history,
        loader: 'icecream serve (TypeScript); not loadable by mlflow.pyfunc',
      },
    },
    model_uuid: randomUUID().replace(/-/g, ''),
    ...(meta.runId ? { run_id: meta.runId } : {}),
    ...(meta.mlflowVersion ? { mlflow_version: meta.mlflowVersion } : {}),
    utc_time_created: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    signature: {
      inputs: JSON.stringify([
        { type: 'string', name: 'date', required: true },
        { type: 'double', name: 'temperature', required: true },
      ]),
      outputs: JSON.stringify([{ type: 'double', name: 'prediction', required: true }]),
      params: null,
    },
  };
  fs.writeFileSync(path.join(dir, bundleFiles.mlmodel), stringify(mlmodel));
  fs.writeFileSync(path.join(dir, bundleFiles.forecaster), forecasterText);
  const forecaster = parseForecaster(forecasterText);
  fs.writeFileSync(
    path.join(dir, bundleFiles.featureSpec),
    `${JSON.stringify(forecaster.features, null, 2)}\n`,
  );
  writeSeries(path.join(dir, bundleFiles.history), history);
  fs.writeFileSync(
    path.join(dir, bundleFiles.reference),
    `${JSON.stringify(trainingReference(forecaster, history))}\n`,
  );
  const lines = [
    bundleFiles.mlmodel,
    bundleFiles.forecaster,
    bundleFiles.featureSpec,
    bundleFiles.history,
    bundleFiles.reference,
  ]
    .map((f) => `${sha256(fs.readFileSync(path.join(dir, f)))}  ${f}`)
    .join('\n');
  fs.writeFileSync(path.join(dir, bundleFiles.checksums), `${lines}\n`);
  return sha256(`${lines}\n`);
}

/**
 * Reads and verifies a bundle folder: every file listed in checksums.sha256 must match, and the
 * forecaster's own checksum too. The training reference is read when the listing names it.
 * @throws BundleIntegrityError
 */
export function readBundle(dir: string): LoadedBundle {
  const checksumsFile = path.join(dir, bundleFiles.checksums);
  if (!fs.existsSync(checksumsFile))
    throw new BundleIntegrityError(dir, `${bundleFiles.checksums} is missing`);
  const listing = fs.readFileSync(checksumsFile, 'utf8');
  const listed = new Set<string>();
  for (const line of listing.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m)
      throw new BundleIntegrityError(dir, `malformed line in ${bundleFiles.checksums}: ${line}`);
    const [, hash, name] = m as unknown as [string, string, string];
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new BundleIntegrityError(dir, `${name} is missing`);
    if (sha256(fs.readFileSync(file)) !== hash)
      throw new BundleIntegrityError(dir, `${name} does not match its sha256`);
    listed.add(name);
  }
  for (const required of [bundleFiles.forecaster, bundleFiles.history]) {
    if (!listed.has(required))
      throw new BundleIntegrityError(dir, `${required} is not covered by ${bundleFiles.checksums}`);
  }
  try {
    const forecaster = parseForecaster(
      fs.readFileSync(path.join(dir, bundleFiles.forecaster), 'utf8'),
    );
    const history = readSeries(path.join(dir, bundleFiles.history));
    const loaded: LoadedBundle = { forecaster, history, digest: sha256(listing) };
    if (listed.has(bundleFiles.reference))
      loaded.reference = parseTrainingReference(
        JSON.parse(fs.readFileSync(path.join(dir, bundleFiles.reference), 'utf8')),
      );
    return loaded;
  } catch (err) {
    throw new BundleIntegrityError(dir, err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  }
}
