import type { Forecaster } from './forecaster';
import { sha256Hex } from './sha256';

/** Format tag and version of a serialized forecaster. Bump the version on any incompatible change. */
export const FORECASTER_FORMAT = 'icecream-forecaster';
export const FORECASTER_FORMAT_VERSION = 1;

/** A serialized forecaster that cannot be read: bad JSON, unknown format/version, checksum mismatch, missing fields. */
export class ForecasterFormatError extends Error {
  constructor(
    message: string,
    readonly reason: 'json' | 'format' | 'version' | 'checksum' | 'shape',
  ) {
    super(message);
    this.name = 'ForecasterFormatError';
  }
}

/**
 * Canonical JSON: object keys sorted, no whitespace, typed arrays as arrays. Throws a RangeError
 * on a non-finite number (JSON cannot hold it) and a TypeError on functions or symbols.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return canonicalJson(Array.from(value as unknown as ArrayLike<number>));
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
}

/**
 * Serializes a forecaster as canonical JSON:
 * `{"checksum":{"algorithm":"sha256","value":HEX},"format":"icecream-forecaster","forecaster":{...},"version":1}`
 * where HEX is the SHA-256 of the canonical JSON of `forecaster`. Same forecaster => same bytes.
 */
export function serializeForecaster(f: Forecaster): string {
  const body = canonicalJson(f);
  const checksum = sha256Hex(body);
  return `{"checksum":{"algorithm":"sha256","value":"${checksum}"},"format":"${FORECASTER_FORMAT}","forecaster":${body},"version":${FORECASTER_FORMAT_VERSION}}`;
}

/** The checksum stored in (and verified for) a serialized forecaster. */
export function forecasterChecksum(f: Forecaster): string {
  return sha256Hex(canonicalJson(f));
}

/**
 * Parses and verifies a serialized forecaster. Throws ForecasterFormatError (not retryable: the
 * bytes are wrong) for bad JSON, another format, an unknown version, a checksum mismatch or a
 * missing field.
 */
export function parseForecaster(text: string): Forecaster {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ForecasterFormatError(
      `forecaster is not valid JSON: ${(e as Error).message}`,
      'json',
    );
  }
  if (typeof doc !== 'object' || doc === null)
    throw new ForecasterFormatError('forecaster document is not an object', 'shape');
  const d = doc as Record<string, unknown>;
  if (d.format !== FORECASTER_FORMAT)
    throw new ForecasterFormatError(`unknown format ${JSON.stringify(d.format)}`, 'format');
  if (d.version !== FORECASTER_FORMAT_VERSION)
    throw new ForecasterFormatError(
      `unsupported forecaster format version ${JSON.stringify(d.version)} (this build reads ${FORECASTER_FORMAT_VERSION})`,
      'version',
    );
  const sum = d.checksum as { algorithm?: unknown; value?: unknown } | undefined;
  if (!sum || sum.algorithm !== 'sha256' || typeof sum.value !== 'string')
    throw new ForecasterFormatError('missing sha256 checksum', 'shape');
  const f = d.forecaster;
  if (typeof f !== 'object' || f === null)
    throw new ForecasterFormatError('missing forecaster body', 'shape');
  const actual = sha256Hex(canonicalJson(f));
  if (actual !== sum.value)
    throw new ForecasterFormatError(
      `checksum mismatch: stored ${sum.value}, computed ${actual}`,
      'checksum',
    );
  const g = f as Partial<Forecaster>;
  for (const key of [
    'config',
    'features',
    'featureNames',
    'model',
    'interval',
    'training',
    'history',
  ] as const) {
    if (g[key] === undefined) throw new ForecasterFormatError(`forecaster lacks "${key}"`, 'shape');
  }
  if (typeof g.model?.kind !== 'string')
    throw new ForecasterFormatError('forecaster model has no kind', 'shape');
  return g as Forecaster;
}
