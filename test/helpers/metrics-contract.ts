/**
 * The service's Prometheus metric names (the contract shared by the API, the worker, the
 * dashboards, the alert rules and the canary analysis; README: Production deployment). An
 * integration test that scrapes a live /metrics can check the service against the same list.
 */
export const contractMetrics = {
  histograms: ['http_request_duration_seconds'],
  counters: [
    'icecream_predictions_total',
    'icecream_http_errors_total',
    'icecream_auth_failures_total',
    'icecream_model_load_attempts_total',
    'icecream_model_load_failures_total',
    'icecream_prediction_log_dropped_total',
    'icecream_feedback_total',
  ],
  gauges: [
    'icecream_model_info',
    'icecream_registry_up',
    'icecream_live_mae',
    'icecream_live_rmse',
    'icecream_live_interval_coverage',
    'icecream_holdout_mae',
    'icecream_drift_score',
    'icecream_drift_detected',
    'icecream_prediction_log_buffered',
    'icecream_canary_traffic_share',
  ],
  /** Exported by others: Prometheus itself, the Temporal SDK (worker), prom-client defaults. */
  prefixes: ['temporal_', 'process_', 'nodejs_'],
  prometheus: ['up'],
} as const;

/** Every series name the contract allows (histograms as their _bucket/_count/_sum series). */
export function isContractSeries(name: string): boolean {
  const c = contractMetrics;
  return (
    c.histograms.some((h) => [`${h}_bucket`, `${h}_count`, `${h}_sum`].includes(name)) ||
    (c.counters as readonly string[]).includes(name) ||
    (c.gauges as readonly string[]).includes(name) ||
    (c.prometheus as readonly string[]).includes(name) ||
    c.prefixes.some((p) => name.startsWith(p))
  );
}

const promqlWords = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ' +
    'ignoring group_left group_right bool and or unless offset rate irate increase delta idelta ' +
    'deriv predict_linear histogram_quantile absent absent_over_time abs ceil floor round clamp ' +
    'clamp_min clamp_max label_replace label_join vector scalar time timestamp sort sort_desc ' +
    'changes resets avg_over_time min_over_time max_over_time sum_over_time count_over_time ' +
    'last_over_time quantile_over_time exp ln log2 log10 sqrt inf nan'
  ).split(' '),
);

/** The metric (or recording rule) names a PromQL expression selects. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\w+/g, ''); // Grafana variables
  const names = [...stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((w) => !promqlWords.has(w) && !/^\d/.test(w) && !/^[eE]\d*$/.test(w));
  return [...new Set(names)];
}
