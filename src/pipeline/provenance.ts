import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadBuildInfo, type BuildInfo } from '../config';

const run = promisify(execFile);

async function git(root: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run('git', args, { cwd: root })).stdout.trim();
  } catch {
    return undefined;
  }
}

function fileSha256(file: string): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * What code and environment produced a run, as MLflow tags: git commit and dirty flag, hashes of
 * package-lock.json and the Python tools lock, Node version, and MLflow's own `mlflow.source.*`.
 * In a checkout git and the files answer; in the image (no .git, no lock files) the values the
 * build recorded do (`build`, by default ICECREAM_GIT_COMMIT and the lock hash variables).
 */
export async function collectProvenance(
  projectRoot: string,
  entry: string,
  build: BuildInfo = loadBuildInfo(),
): Promise<Record<string, string>> {
  const commit = await git(projectRoot, ['rev-parse', 'HEAD']);
  const status = await git(projectRoot, ['status', '--porcelain', '--untracked-files=no']);
  const branch = await git(projectRoot, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const lockHash = (file: string, built: string | undefined): string =>
    fileSha256(path.join(projectRoot, file)) ?? built ?? 'missing';
  return {
    'mlflow.source.type': 'JOB',
    'mlflow.source.name': entry,
    'mlflow.source.git.commit': commit ?? build.gitCommit ?? 'unknown',
    ...(branch ? { 'mlflow.source.git.branch': branch } : {}),
    'mlflow.source.git.dirty': status === undefined ? 'unknown' : String(status.length > 0),
    'code.package_lock_sha256': lockHash('package-lock.json', build.packageLockSha256),
    'code.python_tools_lock_sha256': lockHash('python-tools.lock', build.pythonToolsLockSha256),
    'runtime.node': process.version,
  };
}
