import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { projectRoot } from '../src/config';
import { installTemporalLogging } from '../src/worker/worker';
import { cancelWorkflow } from '../src/pipeline/cancel';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../src/pipeline/schedules';
import { startOrJoinRetraining, temporalRetrainTrigger } from '../src/pipeline/trigger';
import { startTestStack, type TestStack } from './helpers/stack';

const exec = promisify(execFile);

// Against the real Temporal dev server (the project's pinned binary) on a free port. The worker
// runs a stand-in `trainingPipeline` (test/fixtures/workflows) that trains nothing and runs until
// signalled or cancelled, so the tests decide when a run is "still going"; the real pipeline's
// cancellation (MLflow run KILLED) is tested with the pipeline.
describe('schedules, retraining trigger and cancel on a real Temporal server', () => {
  let stack: TestStack;
  let connection: Connection;
  let client: Client;
  let taskQueue: string;
  let stopWorker: () => Promise<void>;

  const inputOf = (workflowId: string) =>
    vi.waitFor(
      () => client.workflow.getHandle(workflowId).query<Record<string, unknown>>('input'),
      {
        timeout: 20_000,
        interval: 200,
      },
    );
  const statusOf = async (workflowId: string) =>
    (await client.workflow.getHandle(workflowId).describe()).status.name;

  const cli = async (...args: string[]) => {
    try {
      const r = await exec('node', [path.join(projectRoot, 'dist/cli/main.js'), ...args], {
        env: stack.config.childEnv,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    stack = await startTestStack(['temporal']);
    taskQueue = stack.config.temporal.taskQueue;
    connection = await Connection.connect({ address: stack.config.temporal.address });
    client = new Client({ connection, namespace: stack.config.temporal.namespace });
    installTemporalLogging('WARN');
    const native = await NativeConnection.connect({ address: stack.config.temporal.address });
    const worker = await Worker.create({
      connection: native,
      namespace: stack.config.temporal.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'workflows', 'stand-in-pipeline.ts'),
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await native.close();
    };
  });

  afterAll(async () => {
    await stopWorker?.();
    await connection?.close();
    await stack?.stop();
  });

  it('creates a cron schedule with overlap policy skip, lists, pauses, unpauses and deletes it', async () => {
    const created = await createSchedule(client, taskQueue, {
      id: 'weekly',
      when: { cron: '0 3 * * 1' },
      input: { seed: 3 },
    });
    expect(created).toMatchObject({ id: 'weekly', spec: 'cron 0 3 * * 1', paused: false });
    // the next run is a Monday at 03:00 UTC
    const next = new Date(created.nextRuns[0]!);
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 3, 0]);

    const d = await client.schedule.getHandle('weekly').describe();
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.action).toMatchObject({ workflowType: 'trainingPipeline', taskQueue });
    expect(d.action.args).toEqual([{ seed: 3, reason: 'schedule weekly' }]);

    await vi.waitFor(
      async () => expect((await listSchedules(client)).map((s) => s.id)).toContain('weekly'),
      {
        timeout: 15_000,
        interval: 250,
      },
    );

    await pauseSchedule(client, 'weekly', 'holiday');
    expect(await describeSchedule(client, 'weekly')).toMatchObject({
      paused: true,
      note: 'holiday',
    });
    await unpauseSchedule(client, 'weekly');
    expect((await describeSchedule(client, 'weekly')).paused).toBe(false);

    await deleteSchedule(client, 'weekly');
    await expect(describeSchedule(client, 'weekly')).rejects.toThrow('no schedule "weekly"');
    await vi.waitFor(
      async () => expect((await listSchedules(client)).map((s) => s.id)).not.toContain('weekly'),
      { timeout: 15_000, interval: 250 },
    );
  });

  it('trigger starts a pipeline run, is skipped while that run goes on, and cancel stops the run', async () => {
    await createSchedule(client, taskQueue, { id: 'daily', when: { every: '1d' } });
    const first = await triggerSchedule(client, 'daily');
    expect(first.outcome).toBe('started');
    const workflowId = first.outcome === 'started' ? first.workflowId : '';
    expect(workflowId).toMatch(/^daily-/);
    expect(await inputOf(workflowId)).toEqual({ reason: 'schedule daily' });

    expect(await triggerSchedule(client, 'daily')).toEqual({
      outcome: 'skipped',
      runningWorkflowId: workflowId,
    });

    expect(await cancelWorkflow(client, workflowId)).toMatchObject({
      workflowId,
      status: 'CANCELLED',
    });

    // nothing runs any more, so the next trigger starts a new run
    const again = await triggerSchedule(client, 'daily');
    expect(again.outcome).toBe('started');
    const second = again.outcome === 'started' ? again.workflowId : '';
    // a new run (the schedule's ids have second precision, so the id may be the first's)
    expect((await client.workflow.getHandle(second).describe()).status.name).toBe('RUNNING');
    await client.workflow.getHandle(second).signal('finish');
    await client.workflow.getHandle(second).result();
    await deleteSchedule(client, 'daily');
  });

  it('rejects a bad cron expression, a bad interval, a duplicate id and an unknown id with clear errors', async () => {
    await expect(
      createSchedule(client, taskQueue, { id: 'bad', when: { cron: 'every monday' } }),
    ).rejects.toThrow(/invalid --cron "every monday": expected 5 fields/);
    await expect(
      createSchedule(client, taskQueue, { id: 'bad', when: { cron: '61 * * * *' } }),
    ).rejects.toThrow(/invalid schedule spec \(cron 61 \* \* \* \*\)/);
    await expect(
      createSchedule(client, taskQueue, { id: 'bad', when: { every: 'daily' } }),
    ).rejects.toThrow(/invalid --every "daily"/);

    await createSchedule(client, taskQueue, { id: 'twice', when: { every: '12h' } });
    await expect(
      createSchedule(client, taskQueue, { id: 'twice', when: { every: '6h' } }),
    ).rejects.toThrow('schedule "twice" already exists');
    await deleteSchedule(client, 'twice');

    for (const op of [pauseSchedule, unpauseSchedule, deleteSchedule, triggerSchedule]) {
      await expect(op(client, 'no-such-schedule')).rejects.toThrow(
        'no schedule "no-such-schedule"',
      );
    }
  });

  it('repeated alarms of one episode join a single run that carries the reason', async () => {
    // the function the prediction service receives (one connection per call)
    const retrain = temporalRetrainTrigger(stack.config);
    const req = { episodeKey: 'drift-temperature-1', reason: 'drift: PSI 0.31 on temperature' };
    const results = await Promise.all([1, 2, 3].map(() => retrain(req)));
    expect(results.filter((r) => r.started)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(results[0]!.workflowId).toBe('retrain-drift-temperature-1');
    expect(await inputOf('retrain-drift-temperature-1')).toEqual({ reason: req.reason });

    // finished: a late alarm of the same episode joins the completed run instead of retraining
    const handle = client.workflow.getHandle('retrain-drift-temperature-1');
    await handle.signal('finish');
    await handle.result();
    expect(await retrain(req)).toEqual({ ...results[0], started: false });
  });

  it('an episode whose run was cancelled is started again by its next alarm', async () => {
    const req = { episodeKey: 'mae-high-7', reason: 'live MAE 2x holdout', input: { seed: 5 } };
    const first = await startOrJoinRetraining(client, taskQueue, req);
    expect(first.started).toBe(true);
    expect(await inputOf(first.workflowId)).toEqual({ seed: 5, reason: req.reason });
    expect((await cancelWorkflow(client, first.workflowId)).status).toBe('CANCELLED');

    const retry = await startOrJoinRetraining(client, taskQueue, req);
    expect(retry).toMatchObject({ workflowId: first.workflowId, started: true });
    expect(retry.runId).not.toBe(first.runId);
    await client.workflow.getHandle(retry.workflowId).signal('finish');
    expect(await statusOf(retry.workflowId)).toMatch(/RUNNING|COMPLETED/);
  });

  it('rejects a bad episode key, an empty reason and a bad input before starting anything', async () => {
    await expect(
      startOrJoinRetraining(client, taskQueue, { episodeKey: 'has space', reason: 'x' }),
    ).rejects.toThrow('invalid episode key "has space"');
    await expect(
      startOrJoinRetraining(client, taskQueue, { episodeKey: 'ok', reason: '  ' }),
    ).rejects.toThrow('invalid retraining reason');
    await expect(
      startOrJoinRetraining(client, taskQueue, {
        episodeKey: 'ok',
        reason: 'x',
        input: { budget: -1 },
      }),
    ).rejects.toThrow(/invalid retraining input: budget:/);
    await expect(client.workflow.getHandle('retrain-ok').describe()).rejects.toThrow();
  });

  it('cancel names an unknown workflow and one that already ended', async () => {
    await expect(cancelWorkflow(client, 'no-such-workflow')).rejects.toThrow(
      'no workflow no-such-workflow in namespace default',
    );
    const h = await client.workflow.start('trainingPipeline', {
      taskQueue,
      workflowId: 'ends-before-cancel',
      args: [{}],
    });
    await h.signal('finish');
    await h.result();
    await expect(cancelWorkflow(client, 'ends-before-cancel')).rejects.toThrow(
      'workflow ends-before-cancel already ended (COMPLETED); nothing to cancel',
    );
  });

  it(
    'the CLI creates, lists, triggers and deletes schedules, retrains, cancels, and exits non-zero with the reason on bad input',
    { timeout: 180_000 },
    async () => {
      const created = await cli(
        'schedule',
        'create',
        '--every',
        '1w',
        '--id',
        'cli-weekly',
        '--input',
        '{"budget":4}',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain('created schedule cli-weekly (every 1w, overlap: skip)');

      const triggered = await cli('schedule', 'trigger', 'cli-weekly');
      expect(triggered.stdout).toMatch(/^started cli-weekly-/);
      const runId = /^started (\S+)/.exec(triggered.stdout)![1]!;
      expect(await inputOf(runId)).toEqual({ budget: 4, reason: 'schedule cli-weekly' });
      const cancelled = await cli('cancel', runId);
      expect(cancelled).toMatchObject({ code: 0, stdout: `${runId}: CANCELLED\n` });

      // the list comes from Temporal's visibility store, which may lag a moment
      await vi.waitFor(
        async () => {
          const [json, table] = await Promise.all([
            cli('schedule', 'list', '--json'),
            cli('schedule', 'list'),
          ]);
          const listed = JSON.parse(json.stdout) as { id: string; recentRuns: unknown[] }[];
          expect(listed.find((s) => s.id === 'cli-weekly')?.recentRuns).toHaveLength(1);
          expect(table.stdout.split('\n')[0]).toMatch(/^id +when +state +next run +last run$/);
          expect(table.stdout).toMatch(
            new RegExp(`^cli-weekly +every 1w +active +\\d{4}-\\S+ +${runId}$`, 'm'),
          );
        },
        { timeout: 30_000, interval: 500 },
      );
      expect((await cli('schedule', 'delete', 'cli-weekly')).stdout).toBe(
        'deleted schedule cli-weekly\n',
      );

      const retrain = async () =>
        JSON.parse(
          (await cli('retrain', '--reason', 'cli test', '--episode', 'cli-1', '--json')).stdout,
        ) as {
          started: boolean;
        };
      expect((await retrain()).started).toBe(true);
      expect((await retrain()).started).toBe(false);
      await client.workflow.getHandle('retrain-cli-1').cancel();

      const failures = [
        [['schedule', 'create', '--cron', '* *'], 'invalid --cron "* *"'],
        [['schedule', 'create', '--every', '1d', '--cron', '0 3 * * *'], 'exactly one of --cron'],
        [
          ['schedule', 'create', '--every', '1d', '--input', '{seed:1}'],
          'invalid --input: not valid JSON',
        ],
        [['schedule', 'pause', 'nope'], 'no schedule "nope"'],
        [
          ['retrain', '--reason', 'x', '--input', '{"famly":"ridge"}'],
          'invalid --input: unknown field "famly"',
        ],
        [['cancel', 'nope'], 'no workflow nope'],
      ] as const;
      const results = await Promise.all(failures.map(([args]) => cli(...args)));
      failures.forEach(([args, message], i) => {
        expect(results[i]!.code, args.join(' ')).toBe(1);
        expect(results[i]!.stderr).toContain(message);
      });
    },
  );
});
