import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configVariables, projectRoot } from '../src/config';
import { describeWithTools, kubernetesSchemas, locateTool, runTool } from './helpers/deploy-tools';

// The manifests are rendered by kustomize (kubectl's built-in one, or the kustomize binary the
// install script adds when there is no kubectl) and validated against the Kubernetes 1.33 JSON
// schemas by kubeconform, offline; then our own invariants are checked on the rendered objects.
const k8s = path.join(projectRoot, 'deploy', 'k8s');
const overlays = ['staging', 'production'] as const;
const kubernetesVersion = '1.33.0';
const kustomizeTool = locateTool('kubectl') ? 'kubectl' : 'kustomize';

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
}
interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
type Deployment = K8sObject & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
};

// @temporalio/envconfig reads these itself (src/pipeline/temporal.ts); the rest are added to
// src/config.ts by sibling branches of this release (see test/deploy-files.test.ts)
const knownVariables = new Set([...configVariables, 'TEMPORAL_API_KEY']);

describeWithTools(
  'Kubernetes manifests (kustomize + kubeconform)',
  [kustomizeTool, 'kubeconform'],
  (bin) => {
    const render = (overlay: string): { text: string; objects: K8sObject[] } => {
      const dir = path.join(k8s, 'overlays', overlay);
      const text =
        kustomizeTool === 'kubectl'
          ? runTool(bin.kubectl!, ['kustomize', dir])
          : runTool(bin.kustomize!, ['build', dir]);
      return { text, objects: parseAllDocuments(text).map((d) => d.toJSON() as K8sObject) };
    };
    const rendered = Object.fromEntries(overlays.map((o) => [o, render(o)]));
    const objects = (o: string) => rendered[o]!.objects;
    const find = <T extends K8sObject>(o: string, kind: string, name: string) =>
      objects(o).find((x) => x.kind === kind && x.metadata.name === name) as T | undefined;
    const deployments = (o: string) =>
      objects(o).filter((x) => x.kind === 'Deployment') as Deployment[];

    it('validates every object of both overlays against the Kubernetes JSON schemas', () => {
      // one kubeconform run: loading the schemas is most of its time
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
      try {
        const files = overlays.map((o) => {
          const file = path.join(dir, `${o}.yaml`);
          fs.writeFileSync(file, rendered[o]!.text);
          return file;
        });
        const out = runTool(bin.kubeconform!, [
          '-strict',
          '-summary',
          '-kubernetes-version',
          kubernetesVersion,
          '-schema-location',
          path.join(
            kubernetesSchemas,
            '{{ .NormalizedKubernetesVersion }}-local-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json',
          ),
          ...files,
          path.join(k8s, 'secret.example.yaml'),
        ]);
        const n = overlays.reduce((sum, o) => sum + objects(o).length, 0) + 1;
        expect(out).toContain(`Valid: ${n}, Invalid: 0, Errors: 0, Skipped: 0`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each(overlays)('%s: runs the API with >= 2 replicas, an HPA from 2 up and a PDB', (o) => {
      const api = find<Deployment>(o, 'Deployment', 'icecream-api')!;
      expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
      const hpa = find(o, 'HorizontalPodAutoscaler', 'icecream-api')!.spec as {
        scaleTargetRef: { name: string };
        minReplicas: number;
        maxReplicas: number;
      };
      expect(hpa.scaleTargetRef.name).toBe('icecream-api');
      expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
      const pdbs = objects(o).filter((x) => x.kind === 'PodDisruptionBudget');
      const labels = api.spec.template.metadata.labels;
      expect(
        pdbs.some((p) => {
          const sel = (p.spec as { selector: { matchLabels: Record<string, string> } }).selector
            .matchLabels;
          return Object.entries(sel).every(([k, v]) => labels[k] === v);
        }),
      ).toBe(true);
      // the canary track waits at 0 replicas for the release workflow
      expect(find<Deployment>(o, 'Deployment', 'icecream-api-canary')!.spec.replicas).toBe(0);
    });

    it.each(overlays)(
      '%s: gives every container probes, requests and limits, a pinned image',
      (o) => {
        for (const d of deployments(o)) {
          expect(d.spec.template.spec.securityContext?.runAsNonRoot, d.metadata.name).toBe(true);
          for (const c of d.spec.template.spec.containers) {
            const where = `${d.metadata.name}/${c.name}`;
            expect(c.readinessProbe, where).toBeDefined();
            expect(c.livenessProbe, where).toBeDefined();
            for (const r of ['cpu', 'memory']) {
              expect(c.resources?.requests?.[r], `${where} requests.${r}`).toBeDefined();
              expect(c.resources?.limits?.[r], `${where} limits.${r}`).toBeDefined();
            }
            expect(c.image, where).toMatch(/^[\w.-]+(\/[\w.-]+)+:(?!latest$)[\w.-]+$/);
          }
        }
        for (const name of ['icecream-api', 'icecream-api-canary']) {
          const c = find<Deployment>(o, 'Deployment', name)!.spec.template.spec.containers[0]!;
          expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
          expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        }
      },
    );

    it.each(overlays)(
      '%s: lets only the ingress controller reach the API, only Prometheus the metrics',
      (o) => {
        interface Policy {
          podSelector: { matchLabels?: Record<string, string> };
          policyTypes: string[];
          ingress?: {
            from: { namespaceSelector?: { matchLabels: Record<string, string> } }[];
            ports: { port: number }[];
          }[];
        }
        const policies = objects(o)
          .filter((x) => x.kind === 'NetworkPolicy')
          .map((p) => p.spec as unknown as Policy);
        // a default deny for the whole namespace, then narrow allowances
        expect(policies.some((p) => Object.keys(p.podSelector).length === 0 && !p.ingress)).toBe(
          true,
        );
        const toApi = policies.filter(
          (p) => p.podSelector.matchLabels?.['app.kubernetes.io/component'] === 'api',
        );
        const httpFrom = toApi.flatMap((p) =>
          (p.ingress ?? []).filter((r) => r.ports.some((x) => x.port === 8080)),
        );
        expect(
          httpFrom.flatMap((r) => r.from.map((f) => f.namespaceSelector?.matchLabels)),
        ).toEqual([{ 'kubernetes.io/metadata.name': 'ingress-nginx' }]);
        for (const p of policies)
          for (const r of p.ingress ?? [])
            for (const f of r.from)
              expect(f.namespaceSelector, 'every allowance names its source').toBeDefined();
      },
    );

    it.each(overlays)('%s: takes secrets from Secret objects and commits none', (o) => {
      expect(objects(o).filter((x) => x.kind === 'Secret')).toEqual([]);
      for (const d of deployments(o)) {
        for (const c of d.spec.template.spec.containers) {
          for (const e of c.env ?? []) {
            expect(
              knownVariables.has(e.name),
              `${d.metadata.name}: ${e.name} is read by the config`,
            ).toBe(true);
            if (/PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL/.test(e.name))
              expect(e.valueFrom?.secretKeyRef?.name, `${d.metadata.name}: ${e.name}`).toBe(
                'icecream-secrets',
              );
          }
        }
      }
      const config = objects(o).find(
        (x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('icecream-config'),
      )!;
      for (const key of Object.keys(config.data!)) expect(knownVariables.has(key), key).toBe(true);
      for (const [key, value] of Object.entries(config.data!)) {
        expect(key).not.toMatch(/PASSWORD|SECRET|TOKEN|API_KEY/);
        expect(value, key).not.toMatch(/:\/\/[^/@\s]+:[^/@\s]+@/); // no credentials in URLs
      }
    });

    it.each(overlays)('%s: has Prometheus scrape each pod on the metrics port it opens', (o) => {
      for (const d of deployments(o)) {
        const a = d.spec.template.metadata.annotations ?? {};
        expect(a['prometheus.io/scrape'], d.metadata.name).toBe('true');
        const ports = d.spec.template.spec.containers
          .flatMap((c) => c.ports ?? [])
          .map((p) => p.containerPort);
        expect(ports, d.metadata.name).toContain(Number(a['prometheus.io/port']));
        expect(['api', 'worker']).toContain(
          d.spec.template.metadata.labels['app.kubernetes.io/component'],
        );
      }
    });

    it('puts staging and production in their own namespaces, reaching external services by URL', () => {
      const ns = overlays.map((o) => new Set(objects(o).map((x) => x.metadata.namespace)));
      expect(ns.map((s) => [...s])).toEqual([['icecream-staging'], ['icecream']]);
      for (const o of overlays) {
        const config = objects(o).find((x) => x.kind === 'ConfigMap')!.data!;
        expect(config.MLFLOW_TRACKING_URI).toMatch(/^https:\/\//);
        expect(config.TEMPORAL_ADDRESS).toMatch(/^[\w.-]+:\d+$/);
      }
    });
  },
  [path.join(kubernetesSchemas, `v${kubernetesVersion}-local-strict`, '_definitions.json')],
);
