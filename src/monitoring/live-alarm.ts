/**
 * The live-quality alarm's rule: is the serving model's live MAE bad enough, on enough actuals, to
 * retrain? Pure: numbers in, a verdict out.
 */

export interface LiveMaeAlarmPolicy {
  /** Alarm when live MAE > ratio x holdout MAE; 0 turns the alarm off. */
  ratio: number;
  /** Fewest actuals in the window before the live MAE counts. */
  minLabels: number;
}

export interface LiveMaeObservation {
  /** The window's label, e.g. `last100` (for the reason). */
  window: string;
  /** Actuals in the window. */
  n: number;
  /** Live MAE over the window; null without actuals. */
  mae: number | null;
  /** The model's holdout MAE (from its registry tags); null when unknown. */
  holdoutMae: number | null;
}

export interface LiveMaeVerdict {
  alarm: boolean;
  /** Why (an alarm's reason names the numbers). */
  reason: string;
}

const fmt = (x: number): string => (Math.round(x * 100) / 100).toString();

/**
 * Alarm when live MAE over the window exceeds `ratio` x the holdout MAE and the window holds at
 * least `minLabels` actuals. No alarm when the rule is off, the holdout MAE is unknown or not
 * positive, or there are too few actuals (too little to judge is not bad quality).
 */
export function liveMaeAlarm(o: LiveMaeObservation, policy: LiveMaeAlarmPolicy): LiveMaeVerdict {
  if (!(policy.ratio > 0)) return { alarm: false, reason: 'live MAE alarm off' };
  if (o.holdoutMae === null || !(o.holdoutMae > 0))
    return { alarm: false, reason: 'no holdout MAE to compare with' };
  if (o.mae === null || o.n < policy.minLabels)
    return {
      alarm: false,
      reason: `${o.n} actuals over ${o.window}, fewer than ${policy.minLabels}`,
    };
  const limit = policy.ratio * o.holdoutMae;
  const ratio = o.mae / o.holdoutMae;
  const numbers =
    `live MAE ${fmt(o.mae)} over ${o.window} (${o.n} actuals) is ${fmt(ratio)}x ` +
    `the holdout MAE ${fmt(o.holdoutMae)}`;
  return o.mae > limit
    ? { alarm: true, reason: `${numbers}, above the limit ${fmt(policy.ratio)}x` }
    : { alarm: false, reason: `${numbers}, within ${fmt(policy.ratio)}x` };
}
