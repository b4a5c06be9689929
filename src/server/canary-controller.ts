import type { Logger } from '../logger';
import { canaryAnalysis, type CanaryPolicy, type CanaryVerdict } from '../monitoring/canary';
import type { AdminActions, AuditTrail } from './admin';
import type { FeedbackStore } from './live-store';
import type { ModelHolder } from './model-holder';
import type { RequestStats } from './request-stats';
import type { Traffic } from './traffic';

/** The latest analysis, as /v1/monitoring shows it. */
export interface CanaryAnalysisResult {
  at: string;
  decision: CanaryVerdict;
  reasons: string[];
  candidate: string;
  production: string;
}

/** Who the audit trail names for the loop's own decisions. */
export const analysisActor = 'canary-analysis';

export interface CanaryControllerDeps {
  production: ModelHolder;
  staging: ModelHolder;
  traffic: Traffic;
  stats: RequestStats;
  store: FeedbackStore;
  actions: AdminActions | undefined;
  audit: AuditTrail;
  log: Logger;
  /** The analysis compares what both arms did over this window. */
  windowMs: number;
  policy?: Partial<CanaryPolicy>;
  /** False in a process that does not decide (another API process leads); default: decides. */
  decides?: () => boolean;
}

/**
 * The analysis loop: compares the `staging` candidate (canary or shadow arm) with `production`
 * over the window on error rate, p99 latency and live MAE (src/monitoring/canary: minimum sample
 * counts, the promotion gate's significance rule), then acts:
 * - rollback: the candidate leaves traffic at once (in process, before any registry call), then
 *   the registry records the rejection with the analysis as the reason;
 * - promote: `production` moves to the candidate in MLflow (audited), and the production holder
 *   reloads at once;
 * - wait: nothing.
 *
 * Only the leading API process analyses (`decides`); the others pick its decisions up from the
 * registry (the alias move, the rejection tag) on their next model refresh.
 */
export class CanaryController {
  last: CanaryAnalysisResult | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CanaryAnalysisResult | null> | undefined;

  constructor(private readonly deps: CanaryControllerDeps) {}

  /** One analysis now (joins one in flight). Never throws; undefined candidate: null. */
  analyse(now = Date.now()): Promise<CanaryAnalysisResult | null> {
    this.running ??= this.run(now)
      .catch((err: unknown) => {
        this.deps.log.error({ err }, 'canary analysis failed');
        return null;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  start(seconds: number): void {
    this.timer = setInterval(() => void this.analyse(), seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async run(now: number): Promise<CanaryAnalysisResult | null> {
    const { traffic, stats, store, log } = this.deps;
    const candidate = traffic.candidate();
    const prod = this.deps.production.current;
    // one process decides; the others apply its decisions from the registry
    if (!candidate || !prod || !(this.deps.decides?.() ?? true)) return null;
    const arm = traffic.current.mode === 'shadow' ? 'shadow' : 'canary';
    const from = now - this.deps.windowMs;
    const p = stats.summary(from, { arm: 'production', version: prod.version });
    const c = stats.summary(from, { arm, version: candidate.version });
    const outcomes = await store.outcomesSince(new Date(from));
    const residuals = (a: string, version: string) =>
      outcomes
        .filter((o) => o.arm === a && o.modelVersion === version)
        .map((o) => o.actual - o.prediction);
    const decision = canaryAnalysis(
      {
        production: {
          version: prod.version,
          requests: p.requests,
          serverErrors: p.errors,
          p99Seconds: p.p99Seconds,
          residuals: residuals('production', prod.version),
        },
        canary: {
          version: candidate.version,
          requests: c.requests,
          serverErrors: c.errors,
          p99Seconds: c.p99Seconds,
          residuals: residuals(arm, candidate.version),
        },
      },
      this.deps.policy,
    );
    const at = new Date(now).toISOString();
    const result: CanaryAnalysisResult = {
      at,
      decision: decision.verdict,
      reasons: decision.reasons,
      candidate: candidate.version,
      production: prod.version,
    };
    this.last = result;
    if (decision.verdict === 'wait') return result;
    const reason =
      `${arm} analysis at ${at} of v${candidate.version} against v${prod.version}: ` +
      decision.reasons.join('; ');
    log.warn(
      {
        decision: decision.verdict,
        candidate: candidate.version,
        production: prod.version,
        reason,
      },
      'canary decision',
    );
    if (decision.verdict === 'rollback') {
      // out of traffic first: the next request already goes to production
      traffic.reject(candidate.version);
      await this.record('reject', candidate.version, reason, prod.version);
    } else {
      await this.promote(candidate.version, reason, prod.version);
    }
    this.deps.audit.invalidate();
    return result;
  }

  private async record(action: string, version: string, reason: string, production: string) {
    const { actions, audit, log } = this.deps;
    if (actions) {
      try {
        await actions.rejectCanary({ version, reason, by: analysisActor });
        return;
      } catch (err) {
        log.error({ err, version }, 'could not record the canary rollback in the registry');
      }
    }
    // no registry to record it in (or it failed): keep it in the local audit trail
    audit.add({
      by: analysisActor,
      action,
      alias: 'staging',
      from: production,
      to: version,
      reason,
    });
  }

  private async promote(version: string, reason: string, production: string) {
    const { actions, log } = this.deps;
    if (!actions) {
      log.warn({ version }, 'canary passed, but this server has no registry actions to promote it');
      return;
    }
    try {
      await actions.promote({ version, reason, by: analysisActor });
      await this.deps.production.refresh();
    } catch (err) {
      log.error({ err, version, production }, 'canary promotion failed; production unchanged');
    }
  }
}
