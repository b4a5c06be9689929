import { MlflowInvalidParameterError } from './errors';
import type { KeyValue, WireDouble } from './types';

/**
 * MLflow's limits (mlflow/utils/validation.py, 3.17), checked on the client so that an over-long
 * value fails loudly instead of being truncated by the server (MLFLOW_TRUNCATE_LONG_VALUES).
 */
export const MlflowLimits = {
  /** per log-batch request */
  maxMetricsPerBatch: 1000,
  maxParamsPerBatch: 100,
  maxTagsPerBatch: 100,
  maxEntitiesPerBatch: 1000,
  /** documented request size of log-batch; reverse proxies enforce it in practice */
  maxBatchBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  /** run and experiment tags: the proto guarantees 5000 (3.14+ servers accept 8000) */
  maxTagValueLength: 5000,
  maxRegistryTagValueLength: 100_000,
  maxExperimentNameLength: 500,
  maxDatasetNameLength: 500,
  maxDatasetDigestLength: 36,
  maxDatasetSourceLength: 65_535,
  maxDatasetSchemaLength: 1_048_575,
  maxDatasetProfileLength: 16_777_215,
  maxInputTagKeyLength: 255,
  maxInputTagValueLength: 500,
  maxAliasLength: 255,
} as const;

// Python's `^[/\w.\- :]*$`, with \w as Unicode letters, digits and underscore.
const keyPattern = /^[/\p{L}\p{N}_. :-]*$/u;
const aliasPattern = /^[\p{L}\p{N}_-]+$/u;

function invalid(message: string): MlflowInvalidParameterError {
  return new MlflowInvalidParameterError(message, { errorCode: 'INVALID_PARAMETER_VALUE' });
}

/**
 * Checks a metric, param or tag key as the server would: non-empty, ≤250 characters, only
 * letters, digits, `_ - . / : ` and spaces, and no path tricks (`..`, leading or double `/`,
 * trailing `/`), because MLflow may store keys as file names.
 * @throws MlflowInvalidParameterError
 */
export function checkKey(key: string, what: string): void {
  if (key.length === 0) throw invalid(`${what} key must not be empty`);
  if (key.length > MlflowLimits.maxKeyLength) {
    throw invalid(
      `${what} key '${key.slice(0, 60)}...' has ${key.length} characters, the limit is ${MlflowLimits.maxKeyLength}`,
    );
  }
  if (!keyPattern.test(key)) {
    throw invalid(
      `${what} key '${key}' may only contain letters, digits, underscores, dashes, periods, colons, spaces and slashes`,
    );
  }
  if (!isNormalPath(key))
    throw invalid(
      `${what} key '${key}' would resolve to a different path (no '..', '.', leading, trailing or double '/')`,
    );
}

/** posixpath.normpath(key) === key and it does not start with '..' or '/'. */
function isNormalPath(key: string): boolean {
  if (key.startsWith('/') || key.endsWith('/') || key.includes('//')) return false;
  return key.split('/').every((part) => part !== '.' && part !== '..');
}

/** @throws MlflowInvalidParameterError when `value` is longer than `limit` characters */
export function checkLength(value: string, limit: number, what: string): void {
  if (value.length > limit) {
    throw invalid(
      `${what} has ${value.length} characters, the limit is ${limit} (MLflow would truncate or reject it)`,
    );
  }
}

/** @throws MlflowInvalidParameterError */
export function checkParam(key: string, value: string): void {
  checkKey(key, 'param');
  checkLength(value, MlflowLimits.maxParamValueLength, `value of param '${key}'`);
}

/** Checks a run or experiment tag. @throws MlflowInvalidParameterError */
export function checkTag(key: string, value: string): void {
  checkKey(key, 'tag');
  checkLength(value, MlflowLimits.maxTagValueLength, `value of tag '${key}'`);
}

/** Checks a registered-model or model-version tag. @throws MlflowInvalidParameterError */
export function checkRegistryTag(key: string, value: string): void {
  checkKey(key, 'registry tag');
  checkLength(value, MlflowLimits.maxRegistryTagValueLength, `value of registry tag '${key}'`);
}

/**
 * Checks a registered-model alias: letters, digits, `_` and `-`; not `latest` and not a version
 * alias like `v3` (both reserved by MLflow). @throws MlflowInvalidParameterError
 */
export function checkAlias(alias: string): void {
  if (!aliasPattern.test(alias))
    throw invalid(`alias '${alias}' may only contain letters, digits, underscores and dashes`);
  checkLength(alias, MlflowLimits.maxAliasLength, `alias '${alias.slice(0, 60)}'`);
  if (alias.toLowerCase() === 'latest' || /^[vV]\d+$/.test(alias))
    throw invalid(`alias '${alias}' is reserved by MLflow`);
}

/**
 * A double as protobuf JSON wants it: finite numbers as numbers, NaN and ±Infinity as strings
 * (JSON.stringify would send null, which the server rejects).
 */
export function toWireDouble(value: number): WireDouble {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

/** The number behind a metric value read from the server (`"NaN"` → NaN, missing → NaN). */
export function metricValueToNumber(value: WireDouble | undefined): number {
  if (value === undefined) return NaN;
  return typeof value === 'number' ? value : Number(value);
}

/** `{a: '1'}` → `[{key: 'a', value: '1'}]`, in insertion order. */
export function toKeyValues(record: Readonly<Record<string, string>> | undefined): KeyValue[] {
  return Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));
}

/** `[{key, value}]` → `{key: value}`; a later duplicate wins. */
export function fromKeyValues(list: readonly KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

/** Quotes a value for an MLflow search filter (`name = '...'`). @throws MlflowInvalidParameterError */
export function quoteFilterValue(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw invalid(
    `cannot quote ${JSON.stringify(value)} for an MLflow filter: it contains both quote characters`,
  );
}
