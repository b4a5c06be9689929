import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, projectRoot } from '../src/config';

// Docker cannot run here: the Dockerfile and compose file are checked statically, and the
// processes they declare are run natively (see pipeline.test.ts) with the same commands.
interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
}
const compose = parse(fs.readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const dockerfile = fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
const ours = Object.entries(compose.services).filter(([, s]) => s.build === '.');

describe('docker-compose.yml', () => {
  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image) expect(s.image, name).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
      else expect(s.build, `${name} has neither image nor build`).toBeDefined();
    }
    const mlflow = fs.readFileSync(path.join(projectRoot, 'deploy', 'mlflow.Dockerfile'), 'utf8');
    const pinned = /mlflow(?:\[\w+\])?==([\d.]+)/.exec(
      fs.readFileSync(path.join(projectRoot, 'python-tools.in'), 'utf8'),
    )?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(mlflow).toContain(`mlflow:v${pinned}`); // the same MLflow as the local stack
  });

  it('runs our worker and API with entry points the build produces', () => {
    expect(ours.map(([n]) => n).sort()).toEqual(['api', 'worker']);
    for (const [name, s] of ours) {
      const [bin, file] = s.command as string[];
      expect(bin, name).toBe('node');
      expect(
        fs.existsSync(path.join(projectRoot, file!)),
        `${name}: ${file} (run npm run build)`,
      ).toBe(true);
    }
  });

  it('gives our services only variables the config knows', () => {
    for (const [name, s] of ours) {
      for (const key of Object.keys(s.environment ?? {}))
        expect(configVariables, `${name}: ${key}`).toContain(key);
    }
  });

  it('refers only to services it defines, and publishes ports on loopback only', () => {
    const names = Object.keys(compose.services);
    for (const [name, s] of Object.entries(compose.services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(names, `${name} depends on ${d}`).toContain(d);
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('keeps secrets out of the file: passwords come from the environment', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|PWD/.test(key))
          expect(String(value), `${name}: ${key}`).toMatch(/^\$\{[A-Z_]+:-local-only-change-me\}$/);
      }
    }
  });
});

describe('Dockerfile', () => {
  it('pins its base images and starts the API entry point', () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^node:\d+\.\d+[\w.-]*$/);
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd!)).toEqual(['node', 'dist/server/main.js']);
  });

  it('copies only files that exist', () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/))
        expect(fs.existsSync(path.join(projectRoot, src)), src).toBe(true);
    }
  });

  it('runs as an unprivileged user', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
