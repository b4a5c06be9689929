import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../src/mlflow/client';
import {
  MlflowAlreadyExistsError,
  MlflowInvalidParameterError,
  MlflowNotFoundError,
  MlflowUnavailableError,
} from '../src/mlflow/errors';
import { fromKeyValues, metricValueToNumber } from '../src/mlflow/validation';
import { freePort } from '../src/stack/processes';
import { projectRoot } from '../src/config';
import { startTestStack, type TestStack } from './helpers/stack';

let stack: TestStack;
let client: MlflowClient;

beforeAll(async () => {
  stack = await startTestStack(['mlflow']);
  client = new MlflowClient({ trackingUri: stack.config.mlflow.trackingUri });
});

afterAll(async () => {
  await stack?.stop();
});

describe('MlflowClient against a real MLflow server', () => {
  it('checks the server version', async () => {
    const version = await client.checkServer();
    expect(version.major).toBe(3);
    expect(version.raw).toMatch(/^3\.\d+\.\d+/);
  });

  it('ensures an experiment idempotently and restores a deleted one', async () => {
    const first = await client.ensureExperiment('ensure-me', { team: 'ice' });
    const second = await client.ensureExperiment('ensure-me', { team: 'ice', extra: 'x' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.experimentId).toBe(first.experimentId);
    expect(fromKeyValues(second.experiment.tags)).toMatchObject({ team: 'ice', extra: 'x' });

    await client.deleteExperiment(first.experimentId);
    expect((await client.getExperiment(first.experimentId)).lifecycle_stage).toBe('deleted');
    const third = await client.ensureExperiment('ensure-me');
    expect(third).toMatchObject({
      experimentId: first.experimentId,
      restored: true,
      created: false,
    });
    expect(third.experiment.lifecycle_stage).toBe('active');
  });

  it('logs more metrics and params than one request allows and reads them back', async () => {
    const { experimentId } = await client.ensureExperiment('batches');
    const parent = await client.createRun({
      experimentId,
      runName: 'parent',
      startTime: Date.now(),
    });
    const run = await client.createRun({
      experimentId,
      runName: 'child',
      parentRunId: parent.info.run_id,
      tags: { kind: 'trial' },
    });
    const runId = run.info.run_id;
    const metrics = Array.from({ length: 1203 }, (_, i) => ({
      key: `m${i % 401}`,
      value: i,
      step: Math.floor(i / 401),
    }));
    metrics.push(
      { key: 'not_a_number', value: NaN, step: 0 },
      { key: 'infinite', value: -Infinity, step: 0 },
    );
    const params = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`p${i}`, `value-${i}`]),
    );
    params.long = 'x'.repeat(6000);
    await client.logBatch({ runId, metrics, params, tags: { 'mlflow.note.content': '# hello' } });

    const got = await client.getRun(runId);
    expect(got.data?.params).toHaveLength(151);
    expect(fromKeyValues(got.data?.params).long).toHaveLength(6000);
    expect(got.data?.metrics).toHaveLength(403); // latest value per key
    const tags = fromKeyValues(got.data?.tags);
    expect(tags['mlflow.parentRunId']).toBe(parent.info.run_id);
    expect(tags['mlflow.runName']).toBe('child');
    expect(tags['mlflow.note.content']).toBe('# hello');
    const history = await client.getMetricHistory(runId, 'm7');
    expect(history.map((m) => [m.step, m.value])).toEqual([
      [0, 7],
      [1, 408],
      [2, 809],
    ]);
    expect(
      metricValueToNumber((await client.getMetricHistory(runId, 'not_a_number'))[0]?.value),
    ).toBeNaN();
    // the SQL store clamps infinities to ±Number.MAX_VALUE
    expect(metricValueToNumber((await client.getMetricHistory(runId, 'infinite'))[0]?.value)).toBe(
      -Number.MAX_VALUE,
    );

    // nested: the child is found by its parent tag
    const children = await client.searchAllRuns({
      experimentIds: [experimentId],
      filter: `tags.mlflow.parentRunId = '${parent.info.run_id}'`,
    });
    expect(children.map((r) => r.info?.run_id)).toEqual([runId]);

    await expect(
      client.logBatch({ runId, params: { too_long: 'x'.repeat(6001) } }),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    // a param is write-once on the server
    await expect(client.logBatch({ runId, params: { p1: 'changed' } })).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );

    await client.setTag(runId, 'temp', '1');
    await client.deleteTag(runId, 'temp');
    const info = await client.endRun(runId);
    expect(info.status).toBe('FINISHED');
    expect(fromKeyValues((await client.getRun(runId)).data?.tags).temp).toBeUndefined();
  });

  it('pages through run searches', async () => {
    const { experimentId } = await client.ensureExperiment('paging');
    for (let i = 0; i < 5; i++)
      await client.createRun({ experimentId, runName: `r${i}`, tags: { batch: 'a' } });
    const page = await client.searchRuns({
      experimentIds: [experimentId],
      filter: "tags.batch = 'a'",
      maxResults: 2,
      orderBy: ['attributes.start_time ASC'],
    });
    expect(page.runs).toHaveLength(2);
    expect(page.next_page_token).toBeDefined();
    const all = await client.searchAllRuns({
      experimentIds: [experimentId],
      filter: "tags.batch = 'a'",
      maxResults: 2,
    });
    expect(all).toHaveLength(5);
    expect(
      (await client.searchRuns({ experimentIds: [experimentId], filter: "tags.batch = 'none'" }))
        .runs,
    ).toEqual([]);
  });

  it('records dataset inputs, once even when logged twice', async () => {
    const { experimentId } = await client.ensureExperiment('inputs');
    const run = await client.createRun({ experimentId, runName: 'with-data' });
    const datasets = [
      {
        name: 'sales',
        digest: 'd41d8cd98f00b204e9800998ecf8427e',
        sourceType: 'dvc',
        source: '{"uri":"data/sales.csv"}',
        schema: '{"mlflow_colspec":[]}',
        profile: '{"num_rows":300}',
        context: 'training',
      },
      {
        name: 'sales',
        digest: '0cc175b9c0f1b6a831c399e269772661',
        sourceType: 'dvc',
        source: '{"uri":"data/sales.csv"}',
        context: 'holdout',
      },
    ];
    await client.logInputs(run.info.run_id, datasets);
    await client.logInputs(run.info.run_id, datasets);
    const inputs = (await client.getRun(run.info.run_id)).inputs?.dataset_inputs ?? [];
    expect(inputs).toHaveLength(2);
    const training = inputs.find(
      (d) => fromKeyValues(d.tags)['mlflow.data.context'] === 'training',
    );
    expect(training?.dataset).toMatchObject({
      name: 'sales',
      digest: 'd41d8cd98f00b204e9800998ecf8427e',
      source_type: 'dvc',
      profile: '{"num_rows":300}',
    });
    await expect(
      client.logInputs(run.info.run_id, [{ ...datasets[0]!, digest: 'x'.repeat(37) }]),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
  });

  it('uploads, lists and downloads a folder with a binary file, then registers it with aliases', async () => {
    const { experimentId } = await client.ensureExperiment('artifacts');
    const run = await client.createRun({ experimentId, runName: 'bundle' });
    const runId = run.info.run_id;
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-art-'));
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    fs.mkdirSync(path.join(local, 'sub dir'), { recursive: true });
    fs.writeFileSync(path.join(local, 'MLmodel'), 'flavors:\n  icecream: {data: model.json}\n');
    fs.writeFileSync(path.join(local, 'model.bin'), binary);
    fs.writeFileSync(path.join(local, 'sub dir', 'notes ü.txt'), 'héllo');

    const uploaded = await client.uploadDirectory(run.info.artifact_uri, local, 'model');
    expect(uploaded.map((f) => f.path).sort()).toEqual([
      'model/MLmodel',
      'model/model.bin',
      'model/sub dir/notes ü.txt',
    ]);
    await client.uploadArtifact(runId, 'evaluation/report.json', '{"mae":1}');

    const top = await client.listArtifacts(run.info.artifact_uri);
    expect(top.map((f) => [f.path, f.is_dir])).toEqual([
      ['evaluation', true],
      ['model', true],
    ]);
    const model = await client.listArtifacts(run.info.artifact_uri, 'model');
    expect(model.find((f) => f.path === 'model/model.bin')?.file_size).toBe(binary.length);
    expect(await client.listArtifacts(run.info.artifact_uri, 'nothing-here')).toEqual([]);

    expect(
      (await client.downloadArtifact(run.info.artifact_uri, 'model/model.bin')).equals(binary),
    ).toBe(true);
    expect((await client.downloadArtifact(runId, 'evaluation/report.json')).toString()).toBe(
      '{"mae":1}',
    );
    await expect(
      client.downloadArtifact(run.info.artifact_uri, 'model/missing.bin'),
    ).rejects.toBeInstanceOf(MlflowNotFoundError);

    const back = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-back-'));
    const downloaded = await client.downloadDirectory(run.info.artifact_uri, 'model', back);
    expect(downloaded).toHaveLength(3);
    expect(fs.readFileSync(path.join(back, 'model.bin')).equals(binary)).toBe(true);
    expect(fs.readFileSync(path.join(back, 'sub dir', 'notes ü.txt'), 'utf8')).toBe('héllo');

    // registry
    const name = 'ice-cream-test';
    const rm = await client.ensureRegisteredModel(name, 'forecasts', { owner: 'tests' });
    expect(rm.name).toBe(name);
    expect(
      fromKeyValues(
        (await client.ensureRegisteredModel(name, undefined, { owner: 'tests', more: '1' })).tags,
      ),
    ).toEqual({ owner: 'tests', more: '1' });
    expect(await client.findModelVersionForRun(name, runId)).toBeUndefined();

    const source = `${run.info.artifact_uri}/model`;
    const first = await client.ensureModelVersionForRun({
      name,
      source,
      runId,
      tags: { 'data.md5': 'abc' },
    });
    expect(first.created).toBe(true);
    const again = await client.ensureModelVersionForRun({
      name,
      source,
      runId,
      tags: { 'data.md5': 'abc', extra: 'y' },
    });
    expect(again.created).toBe(false);
    expect(again.version.version).toBe(first.version.version);
    expect(fromKeyValues(again.version.tags)).toEqual({ 'data.md5': 'abc', extra: 'y' });
    expect((await client.findModelVersionForRun(name, runId))?.version).toBe(first.version.version);
    const ready = await client.waitForModelVersionReady(name, first.version.version, 10_000);
    expect(ready.status).toBe('READY');
    expect(ready.source).toBe(source);
    expect((await client.downloadArtifact(ready.source!, 'model.bin')).equals(binary)).toBe(true);

    const run2 = await client.createRun({ experimentId, runName: 'bundle-2' });
    const second = await client.createModelVersion({
      name,
      source: `${run2.info.artifact_uri}/model`,
      runId: run2.info.run_id,
      description: 'second',
    });
    await client.setModelVersionTag(name, second.version, 'promotion.reason', 'better');
    await client.setRegisteredModelTag(name, 'history', '[]');

    expect(await client.tryGetModelVersionByAlias(name, 'production')).toBeUndefined();
    await expect(client.getModelVersionByAlias(name, 'production')).rejects.toBeInstanceOf(
      MlflowNotFoundError,
    );
    await client.setAlias(name, 'production', first.version.version);
    expect((await client.getModelVersionByAlias(name, 'production')).version).toBe(
      first.version.version,
    );
    expect(await client.moveAlias(name, 'production', second.version)).toEqual({
      previousVersion: first.version.version,
    });
    expect((await client.getModelVersionByAlias(name, 'production')).version).toBe(second.version);
    expect((await client.getRegisteredModel(name)).aliases).toEqual([
      { alias: 'production', version: second.version },
    ]);
    await client.deleteAlias(name, 'production');
    expect(await client.tryGetModelVersionByAlias(name, 'production')).toBeUndefined();
    await expect(client.setAlias(name, 'latest', second.version)).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );

    const all = await client.searchModelVersions(`name = '${name}'`);
    expect(all.map((v) => v.version).sort()).toEqual(
      [first.version.version, second.version].sort(),
    );
    expect(fromKeyValues((await client.getModelVersion(name, second.version)).tags)).toEqual({
      'promotion.reason': 'better',
    });
  });

  it("is read back by MLflow's own Python client", async () => {
    const { experimentId } = await client.ensureExperiment('python-check');
    const run = await client.createRun({ experimentId, runName: 'py' });
    const runId = run.info.run_id;
    await client.logBatch({
      runId,
      params: { alpha: '0.5' },
      metrics: [{ key: 'rmse', value: 1.25, step: 2 }],
      tags: { 'data.md5': 'abc' },
    });
    await client.logInputs(runId, [
      {
        name: 'sales',
        digest: '0123456789abcdef0123456789abcdef',
        sourceType: 'dvc',
        source: '{"uri":"data/sales.csv"}',
        context: 'training',
      },
    ]);
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-py-'));
    const payload = crypto.randomBytes(5000);
    fs.writeFileSync(path.join(local, 'model.bin'), payload);
    await client.uploadDirectory(run.info.artifact_uri, local, 'model');
    const name = 'python-check-model';
    await client.ensureRegisteredModel(name);
    const { version } = await client.ensureModelVersionForRun({
      name,
      source: `${run.info.artifact_uri}/model`,
      runId,
    });
    await client.setAlias(name, 'production', version.version);
    await client.endRun(runId);

    const script = `
import json, hashlib, os, mlflow
from mlflow import MlflowClient
c = MlflowClient()
r = c.get_run("${runId}")
runs = mlflow.search_runs(experiment_ids=["${experimentId}"], filter_string="params.alpha = '0.5'", output_format="list")
mv = c.get_model_version_by_alias("${name}", "production")
d = mlflow.artifacts.download_artifacts(run_id="${runId}", artifact_path="model", dst_path="${local}/py")
print(json.dumps({
  "params": r.data.params, "metrics": r.data.metrics, "status": r.info.status,
  "found": [x.info.run_id for x in runs],
  "digest": r.inputs.dataset_inputs[0].dataset.digest,
  "context": {t.key: t.value for t in r.inputs.dataset_inputs[0].tags}.get("mlflow.data.context"),
  "artifacts": [f.path for f in c.list_artifacts("${runId}", "model")],
  "alias_version": mv.version, "alias_run": mv.run_id,
  "sha": hashlib.sha256(open(os.path.join(d, "model.bin"), "rb").read()).hexdigest(),
}))`;
    const out = execFileSync(
      path.join(projectRoot, '.tools', 'venv', 'bin', 'python'),
      ['-c', script],
      {
        env: {
          ...process.env,
          MLFLOW_TRACKING_URI: stack.config.mlflow.trackingUri,
          MLFLOW_DISABLE_TELEMETRY: 'true',
          DO_NOT_TRACK: '1',
        },
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      params: { alpha: '0.5' },
      metrics: { rmse: 1.25 },
      status: 'FINISHED',
      found: [runId],
      digest: '0123456789abcdef0123456789abcdef',
      context: 'training',
      artifacts: ['model/model.bin'],
      alias_version: version.version,
      alias_run: runId,
      sha: crypto.createHash('sha256').update(payload).digest('hex'),
    });
  });

  it('maps server errors to typed errors', async () => {
    const e0: unknown = await client.getRun('0'.repeat(32)).catch((e: unknown) => e);
    expect(e0, String(e0)).toBeInstanceOf(MlflowNotFoundError);
    await client.ensureRegisteredModel('dupe-model');
    await expect(client.getModelVersion('no-such-model', '1')).rejects.toBeInstanceOf(
      MlflowNotFoundError,
    );
    await expect(
      client.getModelVersionByAlias('no-such-model', 'production'),
    ).rejects.toBeInstanceOf(MlflowNotFoundError);
    await expect(client.getModelVersionByAlias('dupe-model', 'production')).rejects.toBeInstanceOf(
      MlflowNotFoundError,
    );
    // 3.17 checks that a version's source lies inside the run it names
    await expect(
      client.createModelVersion({ name: 'dupe-model', source: 'mlflow-artifacts:/elsewhere' }),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    await client.ensureExperiment('dupes');
    const already: unknown = await client.createExperiment('dupes').catch((e: unknown) => e);
    expect(already).toBeInstanceOf(MlflowAlreadyExistsError);
    expect(already).toMatchObject({
      status: 400,
      errorCode: 'RESOURCE_ALREADY_EXISTS',
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/create',
      retryable: false,
    });
    await expect(client.createRegisteredModel('dupe-model')).rejects.toBeInstanceOf(
      MlflowAlreadyExistsError,
    );
  });

  it('reports an unreachable server as retryable MlflowUnavailableError', async () => {
    const dead = new MlflowClient({
      trackingUri: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 2000,
    });
    const err: unknown = await dead.checkServer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err).toMatchObject({
      retryable: true,
      errorCode: 'NETWORK_ERROR',
      method: 'GET',
      path: '/health',
    });
  });
});
