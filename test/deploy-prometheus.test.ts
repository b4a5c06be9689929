import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../src/config';
import { describeWithTools, runTool } from './helpers/deploy-tools';
import { isContractSeries, metricNamesIn } from './helpers/metrics-contract';

const dir = path.join(projectRoot, 'deploy', 'prometheus');
interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}
const ruleFiles = fs.readdirSync(path.join(dir, 'rules')).map((f) => path.join(dir, 'rules', f));
const rules = ruleFiles
  .flatMap((f) => (parse(fs.readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups)
  .flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

describeWithTools(
  'Prometheus and Alertmanager configuration (promtool, amtool)',
  ['promtool', 'amtool'],
  (bin) => {
    it('passes promtool check config, which also checks the rule files it loads', () => {
      const out = runTool(bin.promtool!, ['check', 'config', path.join(dir, 'prometheus.yml')]);
      expect(out).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    });

    it('passes promtool check rules', () => {
      const out = runTool(bin.promtool!, ['check', 'rules', ...ruleFiles]);
      expect(out.match(/SUCCESS/g)).toHaveLength(ruleFiles.length);
    });

    it('passes the alert unit tests (promtool test rules), which fire every alert', () => {
      const out = runTool(bin.promtool!, [
        'test',
        'rules',
        path.join(dir, 'tests', 'alerts.test.yml'),
      ]);
      expect(out).toContain('SUCCESS');
    });

    it('passes amtool check-config', () => {
      const file = path.join(projectRoot, 'deploy', 'alertmanager', 'alertmanager.yml');
      expect(runTool(bin.amtool!, ['check-config', file])).toContain('SUCCESS');
    });
  },
);

it('has a unit test that fires each alert (not only tests that expect silence)', () => {
  const tests = parse(fs.readFileSync(path.join(dir, 'tests', 'alerts.test.yml'), 'utf8')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const fired = new Set(
    tests.tests.flatMap((t) =>
      (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
    ),
  );
  expect(alerts.length).toBeGreaterThanOrEqual(7);
  for (const a of alerts) expect(fired.has(a.alert!), `${a.alert} fires in a test`).toBe(true);
});

it('points each alert at its own section of the runbook', () => {
  const runbook = fs.readFileSync(path.join(projectRoot, 'docs', 'operations.md'), 'utf8');
  for (const a of alerts) {
    expect(a.annotations?.runbook).toBe(`docs/operations.md#${a.alert!.toLowerCase()}`);
    expect(runbook, `docs/operations.md has a "### ${a.alert}" section`).toMatch(
      new RegExp(`^### ${a.alert}$`, 'm'),
    );
  }
});

it('builds every rule only on metrics of the service contract or on recorded rules', () => {
  for (const r of rules) {
    const names = metricNamesIn(r.expr);
    expect(names.length, r.expr).toBeGreaterThan(0);
    for (const n of names)
      expect(isContractSeries(n) || recorded.has(n), `${n} in ${r.expr}`).toBe(true);
  }
});
