import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../src/config';
import { isContractSeries, metricNamesIn } from './helpers/metrics-contract';

const grafana = path.join(projectRoot, 'deploy', 'grafana');
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}
const dashboards = fs.readdirSync(path.join(grafana, 'dashboards')).map(
  (f) =>
    JSON.parse(fs.readFileSync(path.join(grafana, 'dashboards', f), 'utf8')) as {
      uid: string;
      panels: Panel[];
    },
);
const recorded = new Set(
  fs.readdirSync(path.join(projectRoot, 'deploy', 'prometheus', 'rules')).flatMap((f) =>
    (
      parse(
        fs.readFileSync(path.join(projectRoot, 'deploy', 'prometheus', 'rules', f), 'utf8'),
      ) as {
        groups: { rules: { record?: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
  ),
);

describe('Grafana provisioning', () => {
  it('provisions the Prometheus datasource every panel uses', () => {
    const ds = parse(
      fs.readFileSync(path.join(grafana, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(ds.datasources).toEqual([
      expect.objectContaining({
        uid: 'prometheus',
        type: 'prometheus',
        url: 'http://prometheus:9090',
      }),
    ]);
    expect(dashboards.length).toBeGreaterThan(0);
    for (const d of dashboards)
      for (const p of d.panels.filter((x) => x.type !== 'row'))
        expect(p.datasource?.uid, p.title).toBe('prometheus');
  });

  it("names in every panel's queries only metrics the service exports or rules record", () => {
    let queries = 0;
    for (const d of dashboards) {
      for (const p of d.panels.filter((x) => x.type !== 'row')) {
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets!) {
          const names = metricNamesIn(t.expr);
          expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
          for (const n of names)
            expect(isContractSeries(n) || recorded.has(n), `${p.title}: ${n}`).toBe(true);
          queries += 1;
        }
      }
    }
    expect(queries).toBeGreaterThan(20);
  });

  it('gives panels unique ids and titles, and the dashboard a fixed uid for links', () => {
    for (const d of dashboards) {
      expect(d.uid).toMatch(/^[\w-]+$/);
      const panels = d.panels as (Panel & { id: number })[];
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      const titles = panels.filter((p) => p.type !== 'row').map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
    }
  });
});
