import type { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { cancelWorkflow } from '../pipeline/cancel';
import { withTemporalClient } from '../pipeline/client';
import { parsePipelineInput } from '../pipeline/pipeline-input';
import {
  checkScheduleId,
  createSchedule,
  DEFAULT_SCHEDULE_ID,
  deleteSchedule,
  listSchedules,
  pauseSchedule,
  ScheduleError,
  type ScheduleInfo,
  scheduleSpec,
  triggerSchedule,
  unpauseSchedule,
} from '../pipeline/schedules';
import { retrainWorkflowId, startOrJoinRetraining } from '../pipeline/trigger';

const out = (text: string): void => void process.stdout.write(`${text}\n`);

const workflowUrl = (config: Config, workflowId: string): string =>
  `http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;

function formatSchedules(list: ScheduleInfo[]): string {
  if (list.length === 0) return 'no schedules (create one: icecream schedule create --every 1d)';
  const rows = list.map((s) => [
    s.id,
    s.spec,
    s.paused ? 'paused' : 'active',
    s.nextRuns[0] ?? '-',
    s.recentRuns.at(-1)?.workflowId ?? '-',
  ]);
  const header = ['id', 'when', 'state', 'next run', 'last run'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Temporal Schedules that start trainingPipeline (overlap policy skip; also in the Temporal UI under Schedules)',
    );

  schedule
    .command('create')
    .description('create a schedule that retrains on a cron expression or a fixed interval')
    .option('--cron <expr>', 'cron expression in UTC, e.g. "0 3 * * 1" (Mondays 03:00)')
    .option('--every <duration>', 'fixed interval: a number and s, m, h, d or w, e.g. 1d')
    .option('--input <json>', "trainingPipeline's input as one JSON object, e.g. '{\"seed\":1}'")
    .option('--id <id>', 'schedule id', DEFAULT_SCHEDULE_ID)
    .option('--json', 'print the schedule as JSON')
    .action(
      async (o: { cron?: string; every?: string; input?: string; id: string; json?: boolean }) => {
        if ((o.cron === undefined) === (o.every === undefined)) {
          throw new ScheduleError(undefined, 'give exactly one of --cron EXPR or --every DURATION');
        }
        const when = o.cron !== undefined ? { cron: o.cron } : { every: o.every ?? '' };
        // check everything before connecting, so a typo is reported even with Temporal down
        checkScheduleId(o.id);
        scheduleSpec(when);
        const input = o.input !== undefined ? parsePipelineInput(o.input, '--input') : undefined;
        const config = loadConfig();
        const s = await withTemporalClient(config, (client) =>
          createSchedule(client, config.temporal.taskQueue, {
            id: o.id,
            when,
            ...(input ? { input } : {}),
          }),
        );
        out(
          o.json
            ? JSON.stringify(s, null, 2)
            : `created schedule ${s.id} (${s.spec}, overlap: skip); next run ${s.nextRuns[0] ?? '-'}\n` +
                `UI: http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/schedules/${encodeURIComponent(s.id)}`,
        );
      },
    );

  schedule
    .command('list')
    .description('every schedule in the namespace: when it runs, paused or not, next and last run')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await withTemporalClient(loadConfig(), listSchedules);
      out(o.json ? JSON.stringify(list, null, 2) : formatSchedules(list));
    });

  schedule
    .command('pause')
    .argument('<id>', 'schedule id')
    .description('stop a schedule from starting runs until unpaused')
    .option('--note <text>', 'why (shown in the Temporal UI)')
    .action(async (id: string, o: { note?: string }) => {
      await withTemporalClient(loadConfig(), (c) => pauseSchedule(c, id, o.note));
      out(`paused schedule ${id}`);
    });

  schedule
    .command('unpause')
    .argument('<id>', 'schedule id')
    .description('let a paused schedule start runs again')
    .option('--note <text>', 'why (shown in the Temporal UI)')
    .action(async (id: string, o: { note?: string }) => {
      await withTemporalClient(loadConfig(), (c) => unpauseSchedule(c, id, o.note));
      out(`unpaused schedule ${id}`);
    });

  schedule
    .command('trigger')
    .argument('<id>', 'schedule id')
    .description(
      "start the schedule's run now (skipped when a run it started is still going: overlap policy skip)",
    )
    .action(async (id: string) => {
      const config = loadConfig();
      const r = await withTemporalClient(config, (c) => triggerSchedule(c, id));
      if (r.outcome === 'started') {
        out(`started ${r.workflowId}\n${workflowUrl(config, r.workflowId)}`);
      } else if (r.outcome === 'skipped') {
        out(
          `skipped: ${r.runningWorkflowId ?? 'a run of this schedule'} is still running (overlap policy skip)`,
        );
      } else {
        out(`trigger requested for ${id} (the schedule has not reported the run yet)`);
      }
    });

  schedule
    .command('delete')
    .argument('<id>', 'schedule id')
    .description('delete a schedule (runs it started keep going)')
    .action(async (id: string) => {
      await withTemporalClient(loadConfig(), (c) => deleteSchedule(c, id));
      out(`deleted schedule ${id}`);
    });

  program
    .command('retrain')
    .description(
      'start the training pipeline for a retraining episode, or join the run already started for it (what drift alarms call)',
    )
    .requiredOption('--reason <text>', 'why (recorded in the workflow input and on the MLflow run)')
    .option(
      '--episode <key>',
      'episode key: calls with the same key join one run (default: manual-<time>)',
    )
    .option('--input <json>', "trainingPipeline's input as one JSON object")
    .option('--json', 'print the result as JSON')
    .action(async (o: { reason: string; episode?: string; input?: string; json?: boolean }) => {
      const input = o.input !== undefined ? parsePipelineInput(o.input, '--input') : undefined;
      const episodeKey =
        o.episode ?? `manual-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`;
      retrainWorkflowId(episodeKey); // checks the key before connecting
      const config = loadConfig();
      const r = await withTemporalClient(config, (c) =>
        startOrJoinRetraining(c, config.temporal.taskQueue, {
          episodeKey,
          reason: o.reason,
          ...(input ? { input } : {}),
        }),
      );
      out(
        o.json
          ? JSON.stringify(r, null, 2)
          : `${r.started ? 'started' : 'joined the existing run of'} ${r.workflowId} (run ${r.runId})\n${workflowUrl(config, r.workflowId)}`,
      );
    });

  program
    .command('cancel')
    .argument('<workflowId>', 'workflow id, e.g. from icecream train or the Temporal UI')
    .description(
      'cancel a running pipeline workflow (it stops its activities and marks its MLflow run KILLED) and wait for it to stop',
    )
    .option('--wait <seconds>', 'how long to wait for it to stop', (v) => Number(v), 60)
    .action(async (workflowId: string, o: { wait: number }) => {
      if (!Number.isFinite(o.wait) || o.wait < 0) {
        throw new Error(`invalid --wait: expected seconds >= 0`);
      }
      const r = await withTemporalClient(loadConfig(), (c) =>
        cancelWorkflow(c, workflowId, { waitMs: o.wait * 1000 }),
      );
      if (r.status === 'RUNNING') {
        out(`cancellation requested; ${workflowId} is still stopping after ${o.wait} s`);
      } else {
        out(`${workflowId}: ${r.status}`);
        if (r.status !== 'CANCELLED') process.exitCode = 2; // it ended some other way first
      }
    });
}
