import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleSpec,
  type ScheduleSummary,
} from '@temporalio/client';
import type { TrainingPipelineInput } from './types';

/** A schedule operation that cannot succeed as asked (bad spec, unknown or duplicate id). */
export class ScheduleError extends Error {
  constructor(
    readonly scheduleId: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export const DEFAULT_SCHEDULE_ID = 'training-schedule';
const SCHEDULE_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const CRON_SHORTHAND = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** When a schedule fires: a cron expression (UTC) or a fixed interval. */
export type ScheduleWhen = { cron: string } | { every: string };

export interface ScheduleRequest {
  /** default `training-schedule` */
  id?: string;
  when: ScheduleWhen;
  /** `trainingPipeline`'s input; `reason` defaults to `schedule <id>` */
  input?: TrainingPipelineInput;
}

export interface ScheduleInfo {
  id: string;
  /** as given at creation, e.g. `cron 0 3 * * 1` or `every 1d` */
  spec: string;
  paused: boolean;
  note: string | undefined;
  workflowType: string | undefined;
  /** ISO times of the next few scheduled runs */
  nextRuns: string[];
  /** the most recent runs the schedule started, oldest first */
  recentRuns: { workflowId: string; startedAt: string }[];
}

export type TriggerResult =
  | { outcome: 'started'; workflowId: string }
  | { outcome: 'skipped'; runningWorkflowId: string | undefined }
  | { outcome: 'requested' };

/** @throws ScheduleError unless the id is 1 to 200 letters, digits or `._:-`. */
export function checkScheduleId(id: string): string {
  if (!SCHEDULE_ID.test(id)) {
    throw new ScheduleError(
      undefined,
      `invalid schedule id ${JSON.stringify(id)}: use 1 to 200 letters, digits or ._:-`,
    );
  }
  return id;
}

/**
 * Parses an interval such as `30m`, `6h`, `1d` or `2w` (a whole number and one unit of s, m, h,
 * d, w) into milliseconds.
 * @throws ScheduleError for anything else or an interval under one second.
 */
export function parseEvery(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : 0;
  if (!m || ms < 1000) {
    throw new ScheduleError(
      undefined,
      `invalid --every ${JSON.stringify(text)}: give a whole number and a unit s, m, h, d or w (e.g. 6h, 1d, 1w)`,
    );
  }
  return ms;
}

/**
 * Checks the shape of a cron expression: 5 fields (minute hour day-of-month month day-of-week),
 * 6 (plus year) or 7 (second first), or a shorthand such as `@daily`. The Temporal server checks
 * the values when the schedule is created.
 * @throws ScheduleError naming the expression and what is expected.
 */
export function checkCron(text: string): string {
  const cron = text.trim();
  const fields = cron.split(/\s+/);
  const ok =
    CRON_SHORTHAND.test(cron) ||
    (fields.length >= 5 && fields.length <= 7 && fields.every((f) => /^[\w*?,/#-]+$/.test(f)));
  if (!ok) {
    throw new ScheduleError(
      undefined,
      `invalid --cron ${JSON.stringify(text)}: expected 5 fields "minute hour day-of-month month day-of-week" (UTC), e.g. "0 3 * * *", or @daily/@weekly/@monthly`,
    );
  }
  return cron;
}

/** The Temporal schedule spec for `--cron` or `--every`, validated. */
export function scheduleSpec(when: ScheduleWhen): { spec: ScheduleSpec; text: string } {
  if ('cron' in when) {
    const cron = checkCron(when.cron);
    return { spec: { cronExpressions: [cron] }, text: `cron ${cron}` };
  }
  return {
    spec: { intervals: [{ every: parseEvery(when.every) }] },
    text: `every ${when.every.trim()}`,
  };
}

async function known<T>(id: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new ScheduleError(
        id,
        `no schedule ${JSON.stringify(id)} (see: icecream schedule list)`,
      );
    }
    throw err;
  }
}

/**
 * Creates a Temporal Schedule that starts `trainingPipeline` on `taskQueue`, with overlap policy
 * SKIP: a run due while the previous one still trains is skipped, never queued or run alongside.
 * Each run's workflow id is the schedule id plus the scheduled time.
 * @throws ScheduleError for a bad id or spec (including one the server rejects) or an id in use.
 */
export async function createSchedule(
  client: Client,
  taskQueue: string,
  req: ScheduleRequest,
): Promise<ScheduleInfo> {
  const id = checkScheduleId(req.id ?? DEFAULT_SCHEDULE_ID);
  const { spec, text } = scheduleSpec(req.when);
  const input: TrainingPipelineInput = {
    ...req.input,
    reason: req.input?.reason ?? `schedule ${id}`,
  };
  try {
    await client.schedule.create({
      scheduleId: id,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'trainingPipeline',
        taskQueue,
        workflowId: id,
        args: [input],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: { spec: text, createdBy: 'icecream schedule create' },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new ScheduleError(
        id,
        `schedule ${JSON.stringify(id)} already exists: delete it first or choose another --id`,
      );
    }
    // the SDK turns the server's "Invalid schedule spec" into a TypeError
    if (err instanceof TypeError) {
      throw new ScheduleError(id, `invalid schedule spec (${text}): ${err.message}`);
    }
    throw err;
  }
  return describeSchedule(client, id);
}

function info(
  id: string,
  s: Pick<ScheduleSummary, 'memo' | 'spec' | 'state' | 'action' | 'info'>,
): ScheduleInfo {
  const memoSpec = s.memo?.spec;
  const every = s.spec?.intervals?.[0]?.every;
  return {
    id,
    spec:
      typeof memoSpec === 'string'
        ? memoSpec
        : every !== undefined
          ? `every ${every / 1000}s`
          : s.spec?.calendars?.length
            ? 'calendar'
            : 'unknown',
    paused: s.state.paused,
    note: s.state.note || undefined,
    workflowType: s.action?.workflowType,
    nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    recentRuns: s.info.recentActions.map((a) => ({
      workflowId: a.action.workflow.workflowId,
      startedAt: a.takenAt.toISOString(),
    })),
  };
}

/** @throws ScheduleError for an unknown id. */
export async function describeSchedule(client: Client, id: string): Promise<ScheduleInfo> {
  const d = await known(id, () => client.schedule.getHandle(id).describe());
  return info(id, d);
}

/**
 * Every schedule in the namespace, by id. Comes from Temporal's visibility store, which may lag
 * a create or delete by a moment.
 */
export async function listSchedules(client: Client): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for await (const s of client.schedule.list()) out.push(info(s.scheduleId, s));
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** @throws ScheduleError for an unknown id. */
export async function pauseSchedule(client: Client, id: string, note?: string): Promise<void> {
  await known(id, () => client.schedule.getHandle(id).pause(note ?? 'paused by icecream'));
}

/** @throws ScheduleError for an unknown id. */
export async function unpauseSchedule(client: Client, id: string, note?: string): Promise<void> {
  await known(id, () => client.schedule.getHandle(id).unpause(note ?? 'unpaused by icecream'));
}

/** @throws ScheduleError for an unknown id. */
export async function deleteSchedule(client: Client, id: string): Promise<void> {
  await known(id, () => client.schedule.getHandle(id).delete());
}

const counts = (d: ScheduleDescription) => ({
  taken: d.info.numActionsTaken,
  skipped: d.info.numActionsSkippedOverlap,
});

/**
 * Runs the schedule's action now, under its overlap policy SKIP: when a run it started is still
 * going, the trigger is skipped. Waits up to `waitMs` for the schedule to report which.
 * @throws ScheduleError for an unknown id.
 */
export async function triggerSchedule(
  client: Client,
  id: string,
  { waitMs = 10_000, pollMs = 200 }: { waitMs?: number; pollMs?: number } = {},
): Promise<TriggerResult> {
  const handle = client.schedule.getHandle(id);
  const before = counts(await known(id, () => handle.describe()));
  await known(id, () => handle.trigger(ScheduleOverlapPolicy.SKIP));
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const d = await handle.describe();
    const now = counts(d);
    if (now.taken > before.taken) {
      const last = d.info.recentActions.at(-1);
      if (last) return { outcome: 'started', workflowId: last.action.workflow.workflowId };
    }
    if (now.skipped > before.skipped) {
      return {
        outcome: 'skipped',
        runningWorkflowId: d.info.runningActions[0]?.workflow.workflowId,
      };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return { outcome: 'requested' };
}
