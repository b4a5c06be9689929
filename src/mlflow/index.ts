export * from './client';
export * from './errors';
export * from './types';
export { artifactPath, joinArtifactPath } from './artifact-uri';
export type { MetricInput, BatchInput } from './batch';
export {
  MlflowLimits,
  metricValueToNumber,
  toWireDouble,
  fromKeyValues,
  toKeyValues,
  quoteFilterValue,
} from './validation';
export { SUPPORTED_SERVER_VERSIONS, parseServerVersion, type ServerVersion } from './version';
export { mlflowClientFromConfig } from './from-config';
