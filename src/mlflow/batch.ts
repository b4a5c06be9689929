import { MlflowInvalidParameterError } from './errors';
import type { KeyValue, WireDouble } from './types';
import {
  MlflowLimits,
  checkKey,
  checkParam,
  checkTag,
  toKeyValues,
  toWireDouble,
} from './validation';

/** A metric to log. `value` may be NaN or ±Infinity. */
export interface MetricInput {
  key: string;
  value: number;
  /** epoch ms; defaults to the time of the logBatch call */
  timestamp?: number;
  /** defaults to 0 (use the fold or trial number) */
  step?: number;
}

export interface WireMetric {
  key: string;
  value: WireDouble;
  timestamp: number;
  step: number;
}

/** The body of one log-batch request, without run_id. */
export interface BatchChunk {
  metrics: WireMetric[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface BatchInput {
  /** a list, or `{key: value}` for metrics at step 0 logged now */
  metrics?: readonly MetricInput[] | Readonly<Record<string, number>>;
  params?: Readonly<Record<string, string>>;
  tags?: Readonly<Record<string, string>>;
}

export interface BatchLimits {
  maxMetricsPerBatch: number;
  maxParamsPerBatch: number;
  maxTagsPerBatch: number;
  maxEntitiesPerBatch: number;
  maxBatchBytes: number;
}

/** room for `{"run_id":"<32 hex>","metrics":[],"params":[],"tags":[]}` */
const envelopeBytes = 128;

/**
 * Validates everything first (so nothing is sent when any item is bad), then splits the batch
 * into log-batch requests that respect MLflow's limits: ≤1000 metrics, ≤100 params, ≤100 tags,
 * ≤1000 items and ≤1 MB of JSON per request. Each request is filled with params, then tags, then
 * metrics, keeping their order.
 * @throws MlflowInvalidParameterError for a bad key, an over-long value, a non-integer step or a
 *   negative timestamp.
 */
export function chunkBatch(
  input: BatchInput,
  nowMs: number,
  limits: BatchLimits = MlflowLimits,
): BatchChunk[] {
  const params = toKeyValues(input.params);
  const tags = toKeyValues(input.tags);
  for (const p of params) checkParam(p.key, p.value);
  for (const t of tags) checkTag(t.key, t.value);
  const list = isMetricList(input.metrics)
    ? input.metrics
    : Object.entries(input.metrics ?? {}).map(([key, value]) => ({ key, value }));
  const metrics = list.map((m) => toWireMetric(m, nowMs));

  const kinds: { items: readonly unknown[]; limit: number; field: keyof BatchChunk }[] = [
    { items: params, limit: limits.maxParamsPerBatch, field: 'params' },
    { items: tags, limit: limits.maxTagsPerBatch, field: 'tags' },
    { items: metrics, limit: limits.maxMetricsPerBatch, field: 'metrics' },
  ];
  const next = [0, 0, 0];
  const chunks: BatchChunk[] = [];
  const remaining = (): boolean => kinds.some((k, i) => next[i]! < k.items.length);
  while (remaining()) {
    const chunk: BatchChunk = { metrics: [], params: [], tags: [] };
    let total = 0;
    let bytes = envelopeBytes;
    kinds.forEach((kind, i) => {
      const taken: unknown[] = chunk[kind.field];
      while (
        next[i]! < kind.items.length &&
        taken.length < kind.limit &&
        total < limits.maxEntitiesPerBatch
      ) {
        const item = kind.items[next[i]!];
        const size = Buffer.byteLength(JSON.stringify(item)) + 1;
        if (bytes + size > limits.maxBatchBytes && total > 0) return;
        taken.push(item);
        next[i]! += 1;
        total += 1;
        bytes += size;
      }
    });
    chunks.push(chunk);
  }
  return chunks;
}

function isMetricList(m: BatchInput['metrics']): m is readonly MetricInput[] {
  return Array.isArray(m);
}

function toWireMetric(m: MetricInput, nowMs: number): WireMetric {
  checkKey(m.key, 'metric');
  const step = m.step ?? 0;
  const timestamp = m.timestamp ?? nowMs;
  if (!Number.isSafeInteger(step)) {
    throw new MlflowInvalidParameterError(
      `metric '${m.key}' has step ${step}, it must be an integer`,
      { errorCode: 'INVALID_PARAMETER_VALUE' },
    );
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new MlflowInvalidParameterError(
      `metric '${m.key}' has timestamp ${timestamp}, it must be a non-negative integer of epoch milliseconds`,
      {
        errorCode: 'INVALID_PARAMETER_VALUE',
      },
    );
  }
  if (typeof m.value !== 'number') {
    throw new MlflowInvalidParameterError(
      `metric '${m.key}' has a value of type ${typeof m.value}, it must be a number`,
      { errorCode: 'INVALID_PARAMETER_VALUE' },
    );
  }
  return { key: m.key, value: toWireDouble(m.value), timestamp, step };
}
