import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createActivities as CreateActivities } from '../src/activities';
import { createActivities } from '../src/activities';
import { projectRoot } from '../src/config';
import { japanColumns } from '../src/data/dataset';
import { md5File } from '../src/data/dvc';
import type { MlflowClient } from '../src/mlflow/client';
import { mlflowClientFromConfig } from '../src/mlflow/from-config';
import { fromKeyValues } from '../src/mlflow/validation';
import { codeState, collectProvenance } from '../src/pipeline/provenance';
import {
  ReproduceError,
  reproduceRun,
  type ReproduceDeps,
  type ReproduceOptions,
} from '../src/pipeline/reproduce';
import type { TrainingPipelineInput } from '../src/pipeline/types';
import { toolPaths } from '../src/stack/tools';
import { startTestStack, type TestStack } from './helpers/stack';

const run = promisify(execFile);

// Real MLflow and DVC; the pipeline's activities run in-process (MockActivityEnvironment gives
// them an activity context), so the runs are recorded by the same code the Temporal worker runs.
// A small search keeps it quick.
const input: TrainingPipelineInput = {
  seed: 7,
  families: ['ridge', 'lasso'],
  budget: 3,
  folds: 3,
};

type Activities = ReturnType<typeof CreateActivities>;

describe('reproduce, model cards, diff and the promotion gate', () => {
  let stack: TestStack;
  let mlflow: MlflowClient;
  let deps: ReproduceDeps;
  let activitiesFor: (root: string, create: typeof CreateActivities) => Activities;
  const cleanTree = async () => (await codeState(projectRoot)).dirty === 'false';
  const tmp = (name: string) => {
    const dir = path.join(stack.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };

  /** ingest .. promote, as the workflow sequences them. */
  const train = async (acts: Activities, given: TrainingPipelineInput) => {
    const env = new MockActivityEnvironment();
    const call = <A, R>(fn: (a: A) => Promise<R>, a: A): Promise<R> =>
      env.run<[A], R, typeof fn>(fn, a);
    const workflowId = `test-${randomUUID()}`;
    const run = await call(acts.openRun, { workflowId, runId: randomUUID(), input: given });
    const data = await call(acts.ingestDataset, { run, input: given });
    const valid = await call(acts.validateDataset, { run, data, columns: given.columns });
    const series = valid.series;
    const split = await call(acts.splitDataset, { run, series, holdout: given.holdout });
    const { plan, chunks } = await call(acts.planTraining, { run, series, split, input: given });
    const parts = [];
    for (const chunk of chunks) {
      const r = await call(acts.runTrials, { run, series, split, plan: plan!, chunk });
      parts.push({ chunk, trials: r.trials });
    }
    const trained = await call(acts.fitFinal, {
      run,
      series,
      split,
      input: given,
      plan,
      trials: parts,
    });
    const evaluation = await call(acts.evaluateModel, { run, series, split, model: trained.model });
    const registered = await call(acts.registerModel, {
      run,
      input: given,
      data,
      valid,
      split,
      trained,
      evaluation,
    });
    const promoted = await call(acts.promoteModel, {
      run,
      workflowId,
      registered,
      evaluation,
      policy: {},
    });
    return { registered, promoted };
  };

  const runState = async (runId: string) => {
    const r = await mlflow.getRun(runId);
    const artifacts = await mlflow.listArtifacts(runId, 'reproduce');
    return { tags: fromKeyValues(r.data?.tags), artifacts: artifacts.map((a) => a.path) };
  };

  const cli = async (...args: string[]) => {
    const env = {
      ...process.env,
      MLFLOW_TRACKING_URI: stack.config.mlflow.trackingUri,
      MLFLOW_REGISTERED_MODEL: stack.config.mlflow.registeredModel,
    };
    return run('node', [path.join(projectRoot, 'dist/cli/main.js'), ...args], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
  };

  const reproduce = (target: Parameters<typeof reproduceRun>[1], o: ReproduceOptions = {}) =>
    reproduceRun(deps, target, o);

  let first: Awaited<ReturnType<typeof train>>;

  beforeAll(async () => {
    stack = await startTestStack(['mlflow']);
    mlflow = mlflowClientFromConfig(stack.config);
    const tools = toolPaths(stack.config.toolsDir);
    const provenanceTools = {
      dvc: tools.dvc,
      temporal: tools.temporal,
      mlflowVersion: async () => (await mlflow.checkServer()).raw,
    };
    activitiesFor = (root, create) =>
      create({
        defaults: {
          dataPath: stack.config.dataPath,
          dvcFile: stack.config.dvcFile,
          columns: japanColumns,
        },
        projectRoot: root,
        cacheDir: path.join(stack.dir, 'cache', path.basename(root)),
        cacheMaxBytes: 256 * 1024 * 1024,
        dvc: undefined,
        mlflow,
        experimentName: stack.config.mlflow.experimentName,
        registeredModel: stack.config.mlflow.registeredModel,
        provenance: () => collectProvenance(root, 'test: trainingPipeline', provenanceTools),
      });
    deps = {
      mlflow,
      registeredModel: stack.config.mlflow.registeredModel,
      projectRoot,
      dvcBin: tools.dvc,
      env: stack.config.childEnv,
      tools: provenanceTools,
    };
    first = await train(activitiesFor(projectRoot, createActivities), input);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('records the references at the run: provenance, resolved config, pin state, step digests', async () => {
    const { tags } = await runState(first.registered.runId);
    expect(tags['code.git_diff_sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(tags['runtime.dvc']).toMatch(/^\d+\.\d+\.\d+/);
    expect(tags['runtime.temporal_cli']).toContain('temporal version');
    expect(tags['runtime.temporal_sdk']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(tags['runtime.mlflow']).toMatch(/^3\./);
    expect(tags['data.dvc_remote']).toBe(path.join(projectRoot, 'dvc-storage'));
    expect(tags['data.pinned']).toBe('true');
    expect(tags['config.seed']).toBe('7');
    for (const step of ['ingest', 'validate', 'split', 'train', 'evaluate'])
      expect(tags[`icecream.step.${step}.sha256`]).toMatch(/^[0-9a-f]{64}$/);
    const config = JSON.parse(
      (await mlflow.downloadArtifact(first.registered.runId, 'pipeline/input.json')).toString(),
    ) as Record<string, unknown>;
    expect(config).toMatchObject({
      seed: 7,
      holdout: 24,
      budget: 3,
      folds: 3,
      families: ['ridge', 'lasso'],
      columns: japanColumns,
    });
  });

  it('promotes the first version only when its tree was clean, and logs its model card', async () => {
    if (await cleanTree()) expect(first.promoted.promoted).toBe(true);
    else expect(first.promoted.reason).toMatch(/^not reproducible.*dirty tree/);
    const mv = await mlflow.getModelVersion(stack.config.mlflow.registeredModel, '1');
    expect(mv.description).toContain('## Intended use');
    expect(mv.description).toContain('## Known limitations');
    const card = JSON.parse(
      (await mlflow.downloadArtifact(first.registered.runId, 'model_card.json')).toString(),
    ) as { lineage: { dataMd5: string }; metrics: { holdout: { mae: number } } };
    expect(card.lineage.dataMd5).toBe(await md5File(stack.config.dataPath));
    expect(card.metrics.holdout.mae).toBeGreaterThan(0);
    const { stdout } = await cli('models', '1');
    expect(stdout).toContain(`v1`);
    expect(stdout).toMatch(/Trained on temperatures from -?\d+\.\d to \d+\.\d deg C/);
  });

  it('reproduces a fresh run byte for byte: every step digest, the model bytes, the metrics', async () => {
    const report = await reproduce({ runId: first.registered.runId });
    expect(report.steps.map((s) => [s.step, s.same])).toEqual([
      ['ingest', true],
      ['validate', true],
      ['split', true],
      ['train', true],
      ['evaluate', true],
    ]);
    expect(report.model.same).toBe(true);
    expect(report.metrics.length).toBeGreaterThanOrEqual(15);
    expect(report.metrics.every((m) => m.delta === 0)).toBe(true);
    expect(report.reproduced).toBe(true);
    expect(report.data.remote).toBe(path.join(projectRoot, 'dvc-storage'));
    const { tags, artifacts } = await runState(first.registered.runId);
    expect(tags['icecream.reproduced']).toBe('true');
    expect(artifacts).toEqual(['reproduce/report.json']);
  }, 120_000);

  it('reproduces through the CLI by version, printing "reproduced"', async () => {
    const { stdout } = await cli('reproduce', '--model', '1');
    expect(stdout).toContain('model      ');
    expect(stdout.trim().split('\n').at(-1)).toBe('reproduced');
  }, 120_000);

  it('reports a changed seed as a configuration change at train', async () => {
    const report = await reproduce({ runId: first.registered.runId }, { seed: 8 });
    expect(report.reproduced).toBe(false);
    expect(report.firstDifferingStep).toBe('train');
    expect(report.steps.slice(0, 3).every((s) => s.same)).toBe(true);
    expect(report.inputs).toEqual([
      { kind: 'configuration', name: 'seed', recorded: '7', actual: '8' },
    ]);
    // a what-if sets no verdict on the run
    const { tags, artifacts } = await runState(first.registered.runId);
    expect(tags['icecream.reproduced']).toBe('true');
    expect(artifacts.sort()).toEqual(['reproduce/report.json', 'reproduce/what-if.json']);
  }, 120_000);

  let changedDvc: string;
  it('reports one changed data row (with a new .dvc file) as a data change at ingest', async () => {
    const dir = tmp('changed-data');
    const csv = path.join(dir, path.basename(stack.config.dataPath));
    const lines = fs.readFileSync(stack.config.dataPath, 'utf8').split('\n');
    const row = lines.length - 3; // a holdout month
    const cells = lines[row]!.split(',');
    const sales = lines[0]!.split(',').indexOf(japanColumns.target);
    cells[sales] = String(Number(cells[sales]) + 100);
    lines[row] = cells.join(',');
    fs.writeFileSync(csv, lines.join('\n'));
    const md5 = await md5File(csv);
    changedDvc = `${csv}.dvc`;
    fs.writeFileSync(
      changedDvc,
      `outs:\n- md5: ${md5}\n  size: ${fs.statSync(csv).size}\n  hash: md5\n  path: ${path.basename(csv)}\n`,
    );
    const report = await reproduce({ runId: first.registered.runId }, { dataDvcFile: changedDvc });
    expect(report.reproduced).toBe(false);
    expect(report.firstDifferingStep).toBe('ingest');
    expect(report.inputs).toContainEqual({
      kind: 'data',
      name: 'md5',
      recorded: await md5File(stack.config.dataPath),
      actual: md5,
    });
    expect(report.metrics.some((m) => m.name === 'holdout_mae' && m.delta !== 0)).toBe(true);
  }, 120_000);

  it('never promotes a run on unpinned data automatically, and cannot fetch its md5 from any remote', async () => {
    const second = await train(activitiesFor(projectRoot, createActivities), {
      ...input,
      dataPath: changedDvc.replace(/\.dvc$/, ''),
      dvcFile: changedDvc,
    });
    expect(second.registered.version).toBe('2');
    expect(second.promoted.promoted).toBe(false);
    expect(second.promoted.reason).toMatch(/its data file is not pinned .*not tracked by git/);
    const before = await runState(second.registered.runId);
    await expect(reproduce({ runId: second.registered.runId })).rejects.toThrow(
      /data md5 [0-9a-f]{32} is in no reachable DVC remote \(tried: .*dvc-storage/,
    );
    expect(await runState(second.registered.runId)).toEqual(before);

    const { stdout } = await cli('diff', '1', '2', '--json');
    const diff = JSON.parse(stdout) as { data: { name: string; changed: boolean }[] };
    expect(diff.data.filter((f) => f.changed).map((f) => f.name)).toContain('md5');
  }, 120_000);

  it('names what is missing for unknown runs and versions and for runs recorded before the references', async () => {
    const { experimentId } = await mlflow.ensureExperiment(stack.config.mlflow.experimentName);
    const old = await mlflow.createRun({
      experimentId,
      runName: 'before-references',
      startTime: Date.now(),
      tags: { 'data.md5': 'abc299c0792c7a51a8525b5f3cfb718b', 'mlflow.source.git.commit': 'f00d' },
    });
    const oldId = old.info.run_id;
    const before = await runState(oldId);
    await expect(reproduce({ runId: oldId })).rejects.toThrow(
      /recorded before these references existed \(missing artifact pipeline\/input\.json .*model\/forecaster\.json/,
    );
    await expect(reproduce({ runId: 'f'.repeat(32) })).rejects.toThrow(ReproduceError);
    await expect(reproduce({ runId: 'f'.repeat(32) })).rejects.toThrow(/MLflow has no run f+/);
    await expect(reproduce({ version: '99' })).rejects.toThrow(/has no version 99/);
    expect(await runState(oldId)).toEqual(before);
    const failed = await cli('reproduce', '--model', '99').catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/has no version 99/);
  }, 120_000);

  it('reports a changed engine file as a code change; its dirty-tree run needs promote --force', async () => {
    // a copy of this checkout's code in its own git repository, with one engine file changed
    const copy = tmp('changed-code');
    for (const f of [
      'src',
      'package.json',
      'package-lock.json',
      'python-tools.lock',
      'tsconfig.json',
    ])
      fs.cpSync(path.join(projectRoot, f), path.join(copy, f), { recursive: true });
    fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(copy, 'node_modules'));
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
        cwd: copy,
      });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'copy');
    const engine = path.join(copy, 'src/ml/intervals.ts');
    const text = fs.readFileSync(engine, 'utf8');
    expect(text).toContain('Math.ceil((abs.length + 1) * coverage)');
    fs.writeFileSync(
      engine,
      text.replace(
        'Math.ceil((abs.length + 1) * coverage)',
        'Math.ceil((abs.length + 1) * coverage) - 1',
      ),
    );
    const { createActivities: createCopied } = (await import(
      path.join(copy, 'src/activities/index.ts')
    )) as { createActivities: typeof CreateActivities };
    const third = await train(activitiesFor(copy, createCopied), input);
    expect(third.registered.version).toBe('3');
    expect(third.promoted.promoted).toBe(false);
    expect(third.promoted.reason).toMatch(/dirty tree/);

    const before = await runState(third.registered.runId);
    await expect(reproduce({ runId: third.registered.runId })).rejects.toThrow(
      /was trained at commit [0-9a-f]{40}; this checkout is at .*--at-head/,
    );
    expect(await runState(third.registered.runId)).toEqual(before);

    const report = await reproduce({ runId: third.registered.runId }, { atHead: true });
    expect(report.reproduced).toBe(false);
    expect(report.atHead).toBe(true);
    expect(report.steps.slice(0, 3).every((s) => s.same)).toBe(true);
    expect(report.firstDifferingStep).toBe('train');
    expect(report.inputs.map((i) => i.kind)).toContain('code');
    expect(report.inputs.filter((i) => i.kind === 'configuration')).toEqual([]);
    expect(report.inputs.filter((i) => i.kind === 'data')).toEqual([]);
    expect((await runState(third.registered.runId)).tags['icecream.reproduced']).toBe('false');

    // the promotion gate: refused without --force; --force needs a reason and is recorded
    await expect(cli('promote', '3')).rejects.toThrow(/refusing to promote .* v3 .*dirty tree/);
    await expect(cli('promote', '3', '--force')).rejects.toThrow(/--force needs --reason/);
    const forced = await cli('promote', '3', '--force', '--reason', 'hotfix', '--by', 'carol');
    expect(forced.stdout).toMatch(/-> v3 \(forced\)/);
    const registry = JSON.parse((await cli('models', '--json')).stdout) as {
      history: { action: string; to: string; by: string; forced?: boolean; reason: string }[];
    };
    expect(registry.history.at(-1)).toMatchObject({
      action: 'promote',
      to: '3',
      by: 'carol',
      forced: true,
    });
    expect(registry.history.at(-1)?.reason).toMatch(/^hotfix \[forced past: .*dirty tree/);
    expect((await cli('models', '3')).stdout).toContain('FORCED');

    const diff = JSON.parse((await cli('diff', '1', '3', '--json')).stdout) as {
      code: { name: string; changed: boolean }[];
    };
    expect(diff.code.filter((f) => f.changed).map((f) => f.name)).toEqual(
      expect.arrayContaining(['commit', 'diffSha256']),
    );
  }, 120_000);
});
