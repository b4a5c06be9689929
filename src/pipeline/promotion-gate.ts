/**
 * The reproducibility gate in front of `production`: a version whose run came from a dirty tree,
 * or whose data file was not pinned in git, cannot be re-created from its references, so it is
 * never promoted automatically and a human must force it (`icecream promote --force --reason`),
 * which the audit trail records.
 */
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import { fromKeyValues } from '../mlflow/validation';
import { provenanceTags } from './provenance';
import { aliases, moveAlias, RegistryActionError, type AuditEvent } from './registry';
import { referenceTags } from './run-references';

/**
 * Why a run's model cannot be re-created from what the run recorded; empty when it can.
 * A run that records no git state or pin state (recorded before these tags existed) fails too.
 */
export function reproducibilityProblems(tags: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const dirty = tags[provenanceTags.dirty];
  const commit = tags[provenanceTags.commit];
  if (!commit || commit === 'unknown') problems.push('the run records no git commit');
  if (dirty === 'true') {
    problems.push(
      `the run comes from a dirty tree (uncommitted changes, diff sha256 ${(tags[provenanceTags.diffSha256] ?? 'unknown').slice(0, 12)})`,
    );
  } else if (dirty !== 'false') {
    problems.push('the run does not record whether its tree was clean');
  }
  const pinned = tags[referenceTags.dataPinned];
  if (pinned === 'false') {
    problems.push(
      `its data file is not pinned (${tags[referenceTags.dataPinnedReason] ?? 'no reason recorded'})`,
    );
  } else if (pinned !== 'true') {
    problems.push('the run does not record whether its data file was pinned');
  }
  return problems;
}

/** The problems of the run behind a model version (see `reproducibilityProblems`). */
export async function versionProblems(
  mlflow: MlflowClient,
  name: string,
  version: string,
): Promise<{ runId: string; problems: string[] }> {
  let runId: string | undefined;
  try {
    runId = (await mlflow.getModelVersion(name, version)).run_id;
  } catch (err) {
    if (err instanceof MlflowNotFoundError)
      throw new RegistryActionError(`${name} has no version ${version}`);
    throw err;
  }
  if (!runId) return { runId: '', problems: [`${name} v${version} has no run`] };
  const run = await mlflow.getRun(runId);
  return { runId, problems: reproducibilityProblems(fromKeyValues(run.data?.tags)) };
}

/**
 * A human's promotion to production. Refused (RegistryActionError naming every problem) when the
 * version's run cannot be reproduced, unless `force` is set with a reason; a forced promotion is
 * recorded with `forced: true` and the problems it overrode.
 */
export async function promoteToProduction(
  mlflow: MlflowClient,
  name: string,
  version: string,
  options: { by: string; reason: string; force: boolean },
): Promise<{ changed: boolean; from: string | null; event: AuditEvent | null; forced: boolean }> {
  const { problems } = await versionProblems(mlflow, name, version);
  if (problems.length > 0 && !options.force) {
    throw new RegistryActionError(
      `refusing to promote ${name} v${version} to production: ${problems.join('; ')}. ` +
        'A person may override this with --force --reason "why"; the history records it.',
    );
  }
  const forced = problems.length > 0;
  const moved = await moveAlias(mlflow, name, aliases.production, version, {
    action: 'promote',
    by: options.by,
    reason: forced ? `${options.reason} [forced past: ${problems.join('; ')}]` : options.reason,
    ...(forced ? { forced: true } : {}),
  });
  return { ...moved, forced };
}
