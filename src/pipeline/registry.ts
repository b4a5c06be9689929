/**
 * Governance of the Model Registry: the aliases `staging` and `production` are the source of
 * truth; every promotion, rejection and rollback is recorded as version tags and as an entry of
 * the registered model's audit history (tags `audit.000001`, ... holding one JSON event each).
 */
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import type { ModelVersion } from '../mlflow/types';
import { fromKeyValues } from '../mlflow/validation';

export const aliases = { production: 'production', staging: 'staging' } as const;
export type Alias = (typeof aliases)[keyof typeof aliases];

export const auditActions = ['stage', 'promote', 'reject', 'rollback'] as const;
export type AuditAction = (typeof auditActions)[number];

/** One entry of the registry's history: who moved which alias from which version to which, when and why. */
export interface AuditEvent {
  seq: number;
  at: string;
  by: string;
  action: AuditAction;
  alias: Alias;
  from: string | null;
  to: string;
  reason: string;
  /** set when a person promoted past the reproducibility gate (`promote --force`) */
  forced?: true;
}

/** A registry request that cannot be carried out (unknown version, nothing to roll back to). */
export class RegistryActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryActionError';
  }
}

const auditPrefix = 'audit.';

/** The audit history of a registered model, oldest first. */
export async function readHistory(mlflow: MlflowClient, name: string): Promise<AuditEvent[]> {
  const model = await mlflow.getRegisteredModel(name);
  return Object.entries(fromKeyValues(model.tags))
    .filter(([k]) => k.startsWith(auditPrefix))
    .map(([, v]) => JSON.parse(v) as AuditEvent)
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Appends an event to the history and tags the version with its latest decision. Idempotent for
 * retries: an event equal to the last one (same action, alias, from, to and actor) is not added twice.
 */
export async function recordEvent(
  mlflow: MlflowClient,
  name: string,
  event: Omit<AuditEvent, 'seq' | 'at'>,
): Promise<AuditEvent> {
  const history = await readHistory(mlflow, name);
  const last = history[history.length - 1];
  if (
    last &&
    last.action === event.action &&
    last.alias === event.alias &&
    last.from === event.from &&
    last.to === event.to &&
    last.by === event.by
  ) {
    return last;
  }
  const full: AuditEvent = { seq: (last?.seq ?? 0) + 1, at: new Date().toISOString(), ...event };
  await mlflow.setRegisteredModelTag(
    name,
    `${auditPrefix}${String(full.seq).padStart(6, '0')}`,
    JSON.stringify(full),
  );
  const tags: Record<string, string> = {
    [`${event.alias}.decision`]: event.action,
    [`${event.alias}.reason`]: event.reason.slice(0, 4000),
    [`${event.alias}.at`]: full.at,
    [`${event.alias}.by`]: event.by,
    [`${event.alias}.previous_version`]: event.from ?? 'none',
    ...(event.forced ? { [`${event.alias}.forced`]: 'true' } : {}),
  };
  for (const [k, v] of Object.entries(tags)) await mlflow.setModelVersionTag(name, event.to, k, v);
  return full;
}

/** The version an alias points at, undefined when it is not set (or the model does not exist yet). */
export async function aliasVersion(
  mlflow: MlflowClient,
  name: string,
  alias: Alias,
): Promise<string | undefined> {
  try {
    return (await mlflow.tryGetModelVersionByAlias(name, alias))?.version;
  } catch (err) {
    if (err instanceof MlflowNotFoundError) return undefined;
    throw err;
  }
}

async function requireVersion(
  mlflow: MlflowClient,
  name: string,
  version: string,
): Promise<ModelVersion> {
  try {
    const mv = await mlflow.getModelVersion(name, version);
    if (mv.status && mv.status !== 'READY')
      throw new RegistryActionError(`${name} version ${version} is ${mv.status}, not READY`);
    return mv;
  } catch (err) {
    if (err instanceof MlflowNotFoundError)
      throw new RegistryActionError(`${name} has no version ${version}`);
    throw err;
  }
}

/**
 * Points `alias` at `version` and records it. Moving an alias to where it already points records
 * nothing and reports `changed: false`.
 * @throws RegistryActionError for an unknown or not-ready version.
 */
export async function moveAlias(
  mlflow: MlflowClient,
  name: string,
  alias: Alias,
  version: string,
  audit: { by: string; reason: string; action: AuditAction; forced?: true },
): Promise<{ changed: boolean; from: string | null; event: AuditEvent | null }> {
  await requireVersion(mlflow, name, version);
  const from = (await aliasVersion(mlflow, name, alias)) ?? null;
  if (from === version) return { changed: false, from, event: null };
  // alias first, then the record: a crash in between leaves the alias right and the record
  // missing, never a record of a move that did not happen
  await mlflow.setAlias(name, alias, version);
  const event = await recordEvent(mlflow, name, {
    action: audit.action,
    alias,
    from,
    to: version,
    by: audit.by,
    reason: audit.reason,
    ...(audit.forced ? { forced: audit.forced } : {}),
  });
  return { changed: true, from, event };
}

/**
 * Moves `production` back: to `to` when given, else to the version production pointed at before
 * its latest promotion (from the audit history).
 * @throws RegistryActionError when there is no production version or nothing earlier to go back to.
 */
export async function rollback(
  mlflow: MlflowClient,
  name: string,
  options: { to?: string | undefined; by: string; reason?: string | undefined },
): Promise<{ from: string; to: string; event: AuditEvent | null }> {
  const current = await aliasVersion(mlflow, name, aliases.production);
  if (!current) throw new RegistryActionError(`${name} has no production version to roll back`);
  let target = options.to;
  if (!target) {
    const history = await readHistory(mlflow, name);
    const lastMove = [...history]
      .reverse()
      .find(
        (e) =>
          e.alias === aliases.production &&
          e.to === current &&
          (e.action === 'promote' || e.action === 'rollback'),
      );
    target = lastMove?.from ?? undefined;
    if (!target)
      throw new RegistryActionError(
        `the history of ${name} has no production version before v${current}; pass --to VERSION`,
      );
  }
  if (target === current) throw new RegistryActionError(`${name} v${target} is already production`);
  const moved = await moveAlias(mlflow, name, aliases.production, target, {
    action: 'rollback',
    by: options.by,
    reason: options.reason ?? `rollback from v${current}`,
  });
  return { from: current, to: target, event: moved.event };
}

export interface VersionSummary {
  version: string;
  createdAt: string | null;
  runId: string | null;
  status: string | null;
  aliases: string[];
  tags: Record<string, string>;
}

/** Versions (newest first), aliases and the audit history of a registered model. */
export async function describeRegistry(
  mlflow: MlflowClient,
  name: string,
): Promise<{
  name: string;
  aliases: Record<string, string>;
  versions: VersionSummary[];
  history: AuditEvent[];
}> {
  const model = await mlflow.getRegisteredModel(name);
  const versions = await mlflow.searchModelVersions(`name = '${name.replace(/'/g, "\\'")}'`);
  // version search results leave aliases out: the registered model has them
  const aliasMap = Object.fromEntries(
    (model.aliases ?? []).map((a) => [a.alias ?? '', a.version ?? '']),
  );
  return {
    name,
    aliases: aliasMap,
    versions: versions
      .map((v) => ({
        version: v.version ?? '',
        createdAt: v.creation_timestamp
          ? new Date(Number(v.creation_timestamp)).toISOString()
          : null,
        runId: v.run_id ?? null,
        status: v.status ?? null,
        aliases: Object.keys(aliasMap).filter((a) => aliasMap[a] === v.version),
        tags: fromKeyValues(v.tags),
      }))
      .sort((a, b) => Number(b.version) - Number(a.version)),
    history: await readHistory(mlflow, name),
  };
}
