import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../src/config';
import { describeWithTools, runTool } from './helpers/deploy-tools';

const dir = path.join(projectRoot, '.github', 'workflows');
interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps?: Step[]; uses?: string; needs?: string | string[] }>;
}
const workflow = (name: string) => parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const runs = (w: Workflow) => steps(w).flatMap((s) => (s.run ? [s.run] : []));

describeWithTools(
  'GitHub Actions workflows and shell scripts',
  ['actionlint', 'shellcheck'],
  (bin) => {
    it('pass actionlint (which runs shellcheck on their scripts)', () => {
      const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
      expect(files.length).toBe(3);
      // no output and exit code 0 = no problem found
      expect(runTool(bin.actionlint!, ['-no-color', ...files])).toBe('');
    });

    it('has shell scripts that pass shellcheck', () => {
      const scripts = [
        '.ci/run',
        'scripts/install-deploy-tools.sh',
        'deploy/postgres/initdb.d/10-predictions.sh',
      ];
      expect(runTool(bin.shellcheck!, scripts)).toBe('');
    });
  },
);

describe('workflows', () => {
  it('check pull requests with typecheck, lint, format and npm test', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'workflow_call']);
    expect(runs(ci)).toEqual(
      expect.arrayContaining([
        'npm run typecheck',
        'npm run lint',
        'npm run format:check',
        'bash scripts/install-deploy-tools.sh',
        'npm test',
      ]),
    );
  });

  it('release main: tests, builds the image once tagged with the SHA, canaries, then decides', () => {
    const release = workflow('release.yml');
    expect(release.on).toEqual({ push: { branches: ['main'] } });
    expect(release.jobs.test!.uses).toBe('./.github/workflows/ci.yml');
    const builds = steps(release).filter((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(builds).toHaveLength(1);
    expect(builds[0]!.with!.build_args ?? builds[0]!.with!['build-args']).toContain(
      'ICECREAM_GIT_COMMIT=${{ github.sha }}',
    );
    expect(runs(release).join('\n')).toContain(':${GITHUB_SHA}"');
    const prod = release.jobs.production!.steps!;
    const analysis = prod.find((s) => s.run?.includes('dist/scripts/canary-analysis.js'));
    expect(analysis).toBeDefined();
    expect(prod.map((s) => s.if).filter(Boolean)).toEqual([
      "steps.analysis.outcome == 'success'",
      "steps.analysis.outcome != 'success'",
    ]);
  });

  it('offer a manual rollback to a given SHA', () => {
    const rollback = workflow('rollback.yml');
    expect(rollback.on.workflow_dispatch).toMatchObject({
      inputs: { sha: { required: true } },
    });
  });

  it('use only actions pinned to a version', () => {
    for (const f of fs.readdirSync(dir))
      for (const s of steps(workflow(f)))
        if (s.uses && !s.uses.startsWith('./'))
          expect(s.uses, f).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$|@[0-9a-f]{40}$/);
  });
});
