import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function git(root: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run('git', args, { cwd: root })).stdout.trim();
  } catch {
    return undefined;
  }
}

function fileSha256(file: string): string {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/**
 * What code and environment produced a run, as MLflow tags: git commit and dirty flag, hashes of
 * package-lock.json and the Python tools lock, Node version, and MLflow's own `mlflow.source.*`.
 */
export async function collectProvenance(
  projectRoot: string,
  entry: string,
): Promise<Record<string, string>> {
  const commit = await git(projectRoot, ['rev-parse', 'HEAD']);
  const status = await git(projectRoot, ['status', '--porcelain', '--untracked-files=no']);
  const branch = await git(projectRoot, ['rev-parse', '--abbrev-ref', 'HEAD']);
  return {
    'mlflow.source.type': 'JOB',
    'mlflow.source.name': entry,
    'mlflow.source.git.commit': commit ?? 'unknown',
    ...(branch ? { 'mlflow.source.git.branch': branch } : {}),
    'mlflow.source.git.dirty': status === undefined ? 'unknown' : String(status.length > 0),
    'code.package_lock_sha256': fileSha256(path.join(projectRoot, 'package-lock.json')),
    'code.python_tools_lock_sha256': fileSha256(path.join(projectRoot, 'python-tools.lock')),
    'runtime.node': process.version,
  };
}
