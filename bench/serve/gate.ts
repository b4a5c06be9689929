import type { Metrics } from '../../src/server/metrics';
import { openGate, type Gate } from '../../src/server/routes/types';

/** The gate the benchmarked API runs with. */
export function benchGate(_metrics: Metrics): Gate {
  return openGate;
}
