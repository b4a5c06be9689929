import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, projectRoot } from '../src/config';
import { describeWithTools, runTool } from './helpers/deploy-tools';

// Docker cannot run here: the Dockerfile and compose file are checked statically (the Compose
// Specification's JSON schema plus the invariants below), and the processes they declare are run
// natively (see pipeline.test.ts) with the same commands.
interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  restart?: string;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}
const file = (...p: string[]) => path.join(projectRoot, ...p);
const read = (...p: string[]) => fs.readFileSync(file(...p), 'utf8');
const composeText = read('docker-compose.yml');
// merge: the file shares the API's definition between its replicas with YAML anchors and `<<`
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = Object.entries(compose.services);
const productImage = '${ICECREAM_IMAGE:-icecream-mlops:local}';
const ours = services.filter(([, s]) => s.image === productImage);
const apis = ours.filter(([, s]) => (s.command as string[])[1] === 'dist/server/main.js');
const dockerfile = read('Dockerfile');

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(read('deploy', 'schemas', 'compose-spec.json')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], 'schema errors').toEqual([]);
    expect(valid).toBe(true);
  });

  it('pins every image to a version', () => {
    for (const [name, s] of services) {
      if (s.build) continue; // built here from pinned bases (Dockerfile, deploy/mlflow.Dockerfile)
      expect(s.image, name).toMatch(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/);
    }
    const pinned = /mlflow(?:\[\w+\])?==([\d.]+)/.exec(read('python-tools.in'))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    // the same MLflow as the local stack
    expect(read('deploy', 'mlflow.Dockerfile')).toContain(`mlflow:v${pinned}`);
  });

  it('runs the worker and two identical API replicas with entry points the build produces', () => {
    expect(ours.map(([n]) => n).sort()).toEqual(['api-1', 'api-2', 'worker']);
    expect(apis.map(([n]) => n)).toEqual(['api-1', 'api-2']);
    expect(apis[0]![1]).toEqual(apis[1]![1]);
    for (const [name, s] of ours) {
      const [bin, entry] = s.command as string[];
      expect(bin, name).toBe('node');
      expect(fs.existsSync(file(entry!)), `${name}: ${entry} (run npm run build)`).toBe(true);
      const build = s.build as { context: string; args?: Record<string, string> };
      expect(build.context, name).toBe('.');
      expect(build.args?.ICECREAM_GIT_COMMIT, name).toMatch(/^\$\{ICECREAM_GIT_COMMIT:-\w+\}$/);
    }
  });

  it('gives our services only variables the config knows', () => {
    const known = new Set(configVariables);
    for (const [name, s] of ours) {
      for (const key of Object.keys(s.environment ?? {}))
        expect(known.has(key), `${name}: ${key} is not read by src/config.ts`).toBe(true);
    }
  });

  it('starts a service only after what it needs is healthy (or, for one-shot jobs, done)', () => {
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(target!.healthcheck, `${dep} has a healthcheck`).toBeDefined();
        else {
          expect(condition, `${name} -> ${dep}`).toBe('service_completed_successfully');
          expect(target!.restart, `${dep} is a one-shot job`).toBe('no');
        }
      }
    }
  });

  it('gives every long-running service a healthcheck and a restart policy', () => {
    for (const [name, s] of services) {
      expect(['unless-stopped', 'no'], name).toContain(s.restart);
      if (s.restart === 'unless-stopped') expect(s.healthcheck, name).toBeDefined();
    }
  });

  it('publishes ports on loopback only, and never the metrics ports', () => {
    for (const [name, s] of services) {
      for (const p of s.ports ?? []) {
        expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        expect(p, name).not.toMatch(/:946[45]$/);
      }
    }
  });

  it('keeps data in named volumes and mounts repo files read-only', () => {
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const [source, , mode] = v.split(':');
        if (source!.startsWith('./')) {
          expect(mode, `${name}: ${v}`).toBe('ro');
          expect(fs.existsSync(file(source!)), `${name}: ${source}`).toBe(true);
        } else expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(source);
      }
    }
  });

  it('keeps secrets out of the file: each comes from the environment, required, with no default', () => {
    const required = /^\$\{[A-Z_]+:\?[^}]+\}$/;
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|PWD|TOKEN/.test(key))
          expect(String(value), `${name}: ${key}`).toMatch(required);
      }
    }
    // credentials inside URLs (also in commands), and no `:-default` for a secret anywhere
    for (const m of composeText.matchAll(/\w+:\/\/([^:/\s@]+):([^@\s]+)@/g))
      expect(m[2], m[0]).toMatch(required);
    for (const m of composeText.matchAll(/\$\{(\w+):-([^}]*)\}/g)) {
      if (/PASSWORD|SECRET|PWD|TOKEN/.test(m[1]!)) expect(m[2], m[0]).toBe('');
    }
  });

  it('documents in .env.example every variable it interpolates', () => {
    const documented = new Set(
      [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
    );
    const used = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(5);
    for (const v of used) expect(documented.has(v), `${v} in .env.example`).toBe(true);
  });

  it('puts exactly the API replicas behind the proxy, with an active health check on /readyz', () => {
    const caddy = read('deploy', 'caddy', 'Caddyfile');
    const upstreams = /reverse_proxy ([^{]+)\{/.exec(caddy)?.[1]?.trim().split(/\s+/);
    expect(upstreams).toEqual(apis.map(([n, s]) => `${n}:${s.environment!.API_PORT}`));
    expect(caddy).toMatch(/^\s*health_uri \/readyz$/m);
    expect(compose.services.proxy!.depends_on).toEqual(
      Object.fromEntries(apis.map(([n]) => [n, { condition: 'service_healthy' }])),
    );
  });

  it('has Prometheus scrape every API replica and the workers on their metrics ports', () => {
    const prom = parse(read('deploy', 'prometheus', 'prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    const job = (n: string) => prom.scrape_configs.find((c) => c.job_name === n);
    expect(job('api')?.static_configs?.flatMap((c) => c.targets)).toEqual(
      apis.map(([n, s]) => `${n}:${s.environment!.METRICS_PORT}`),
    );
    const worker = compose.services.worker!.environment!;
    expect(job('worker')?.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], port: Number(worker.WORKER_METRICS_PORT) }),
    ]);
    for (const [name, s] of ours) expect(s.environment!.METRICS_HOST, name).toBe('0.0.0.0');
  });
});

describeWithTools('Caddyfile (caddy validate)', ['caddy'], (bin) => {
  it('is a valid Caddy configuration', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'caddy-'));
    try {
      const out = runTool(
        bin.caddy!,
        ['validate', '--adapter', 'caddyfile', '--config', file('deploy', 'caddy', 'Caddyfile')],
        home,
        { HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
      );
      expect(out).toContain('Valid configuration');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  it('pins its base images to an exact version and starts the API entry point', () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^node:\d+\.\d+\.\d+-[\w.-]+(@sha256:[0-9a-f]{64})?$/);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd!)).toEqual(['node', 'dist/server/main.js']);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/healthz/m);
  });

  it('takes the git commit and lock hashes as build args, into OCI labels and the environment', () => {
    for (const arg of [
      'ICECREAM_GIT_COMMIT',
      'ICECREAM_PACKAGE_LOCK_SHA256',
      'ICECREAM_PYTHON_TOOLS_LOCK_SHA256',
    ]) {
      const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      expect(runtime).toMatch(new RegExp(`^ARG ${arg}=`, 'm'));
      expect(runtime, `${arg} in ENV`).toMatch(new RegExp(`\\b${arg}=\\$\\{${arg}\\}`));
      expect(configVariables).toContain(arg); // provenance reads it through src/config.ts
    }
    expect(dockerfile).toContain('org.opencontainers.image.revision="${ICECREAM_GIT_COMMIT}"');
    // a lock hash passed as an argument is checked against the file the image is built from
    expect(dockerfile).toMatch(/sha256sum -c/);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    expect(read('.dockerignore')).toMatch(/^\*$/m); // everything else stays out: .env, .git, .local
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) {
        expect(fs.existsSync(file(src)), src).toBe(true);
        expect(allowed, `${src} in .dockerignore's allow list`).toContain(src);
      }
    }
  });

  it('runs as an unprivileged user', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
