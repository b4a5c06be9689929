import { describe, expect, it } from 'vitest';
import { canaryAnalysis, welchTTest, type ArmObservation } from './canary';

/** deterministic residuals with the given mean absolute size and alternating sign */
const residuals = (n: number, size: number, spread = 0.3): number[] =>
  Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * size * (1 + spread * Math.sin(i * 1.3)));

function arm(overrides: Partial<ArmObservation> = {}): ArmObservation {
  return {
    version: '1',
    requests: 1000,
    serverErrors: 0,
    p99Seconds: 0.004,
    residuals: residuals(100, 10),
    ...overrides,
  };
}

describe('welchTTest', () => {
  it('matches scipy.stats.ttest_ind(a, b, equal_var=False, alternative="less")', () => {
    // scipy 1.17.1: statistic -5.366840877956621, df 12.86145888288664, p 6.652355341189059e-05
    const r = welchTTest(
      [1.2, 0.8, 1.5, 2.0, 1.1, 0.9, 1.7, 1.3],
      [2.1, 2.5, 1.9, 2.8, 2.2, 3.0, 2.4],
    );
    expect(r.statistic).toBeCloseTo(-5.366840877956621, 10);
    expect(r.df).toBeCloseTo(12.86145888288664, 10);
    expect(r.pLess).toBeCloseTo(6.652355341189059e-5, 9);
  });

  it('gives p = 0.5 for two constant, equal samples', () => {
    expect(welchTTest([1, 1], [1, 1]).pLess).toBe(0.5);
  });
});

describe('canaryAnalysis', () => {
  it('waits while the canary has had too little traffic', () => {
    const d = canaryAnalysis({ production: arm(), canary: arm({ version: '2', requests: 10 }) });
    expect(d.verdict).toBe('wait');
    expect(d.reasons.join()).toMatch(/answered 10 of the 50 requests/);
  });

  it('rolls back on a canary error rate above production + 1 point', () => {
    const d = canaryAnalysis({
      production: arm({ serverErrors: 1 }),
      canary: arm({ version: '2', requests: 200, serverErrors: 10 }),
    });
    expect(d.verdict).toBe('rollback');
    expect(d.reasons[0]).toMatch(/error-rate: canary error rate 5.00% vs production 0.10%/);
  });

  it('rolls back on a canary p99 above 1.2 x production', () => {
    const d = canaryAnalysis({
      production: arm(),
      canary: arm({ version: '2', p99Seconds: 0.01 }),
    });
    expect(d.verdict).toBe('rollback');
    expect(d.reasons[0]).toMatch(/^latency: canary p99 10.0 ms vs production 4.0 ms/);
  });

  it('waits for the minimum number of actuals in both arms', () => {
    const d = canaryAnalysis({
      production: arm(),
      canary: arm({ version: '2', residuals: residuals(5, 1) }),
    });
    expect(d.verdict).toBe('wait');
    expect(d.reasons.join()).toMatch(/5 canary and 100 production actuals, 20 needed/);
  });

  it('promotes a canary whose live MAE is significantly lower', () => {
    const d = canaryAnalysis({
      production: arm({ residuals: residuals(60, 10) }),
      canary: arm({ version: '2', residuals: residuals(60, 6) }),
    });
    expect(d.verdict).toBe('promote');
    expect(d.quality).toMatchObject({ test: 'welch', canaryLabels: 60 });
    expect(d.quality!.pBetter).toBeLessThan(0.05);
    expect(d.reasons.join('\n')).toMatch(/significantly better: live MAE 6.\d\d \(v2, n = 60\)/);
  });

  it('rolls back a canary whose live MAE is significantly higher', () => {
    const d = canaryAnalysis({
      production: arm({ residuals: residuals(60, 10) }),
      canary: arm({ version: '2', residuals: residuals(60, 14) }),
    });
    expect(d.verdict).toBe('rollback');
    expect(d.reasons.join()).toMatch(/quality: significantly worse/);
  });

  it('waits on an undecided difference, then rolls back once maxLabels is reached', () => {
    const same = { production: arm({ residuals: residuals(60, 10) }) };
    expect(
      canaryAnalysis({ ...same, canary: arm({ version: '2', residuals: residuals(60, 10.05) }) })
        .verdict,
    ).toBe('wait');
    const d = canaryAnalysis({
      production: arm({ residuals: residuals(250, 10) }),
      canary: arm({ version: '2', residuals: residuals(250, 9.95) }),
    });
    expect(d.verdict).toBe('rollback');
    expect(d.reasons.join()).toMatch(/no significant gain after 250 actuals/);
  });

  it('uses the promotion gate test (Diebold-Mariano) on paired shadow errors', () => {
    const prodErrors = residuals(40, 10);
    const canaryErrors = prodErrors.map((e) => e * 0.8);
    const d = canaryAnalysis({
      production: arm({ residuals: prodErrors }),
      canary: arm({ version: '2', residuals: canaryErrors }),
      paired: { canary: canaryErrors, production: prodErrors },
    });
    expect(d.verdict).toBe('promote');
    expect(d.quality?.test).toBe('diebold-mariano');
  });
});
