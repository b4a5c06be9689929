import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadBuildInfo, type BuildInfo } from '../config';
import { defaultDvcRemote } from '../data/dvc-fetch';

const run = promisify(execFile);

async function git(root: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
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

/** Tag names of the provenance every run records (the ones reproduce and the promotion gate read). */
export const provenanceTags = {
  commit: 'mlflow.source.git.commit',
  branch: 'mlflow.source.git.branch',
  dirty: 'mlflow.source.git.dirty',
  diffSha256: 'code.git_diff_sha256',
  packageLock: 'code.package_lock_sha256',
  pythonToolsLock: 'code.python_tools_lock_sha256',
  node: 'runtime.node',
  platform: 'runtime.platform',
  mlflow: 'runtime.mlflow',
  dvc: 'runtime.dvc',
  temporalSdk: 'runtime.temporal_sdk',
  temporalCli: 'runtime.temporal_cli',
  dvcRemote: 'data.dvc_remote',
} as const;

/** Where the tools whose versions are recorded live; each one is optional. */
export interface ProvenanceTools {
  /** the pinned `dvc` executable */
  dvc?: string;
  /** the pinned `temporal` CLI */
  temporal?: string;
  /** the MLflow server's version (e.g. `MlflowClient.checkServer`) */
  mlflowVersion?: () => Promise<string>;
}

/** The code state of a checkout: commit, dirty flag and a digest of every uncommitted change. */
export interface CodeState {
  commit: string;
  branch: string | undefined;
  /** 'true' | 'false' | 'unknown' (not a git checkout) */
  dirty: string;
  /** sha256 of `git diff HEAD` and the list of untracked files; equal digests = same working tree */
  diffSha256: string;
}

/**
 * The git state of `projectRoot`. The dirty flag counts changes to tracked files; the diff digest
 * also covers the names of untracked (not ignored) files, so two trees with the same commit and
 * digest hold the same tracked code.
 */
export async function codeState(projectRoot: string): Promise<CodeState> {
  const commit = await git(projectRoot, ['rev-parse', 'HEAD']);
  const status = await git(projectRoot, ['status', '--porcelain', '--untracked-files=no']);
  const branch = await git(projectRoot, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const diff = await git(projectRoot, ['diff', 'HEAD', '--no-ext-diff', '--binary']);
  const untracked = await git(projectRoot, ['ls-files', '--others', '--exclude-standard']);
  return {
    commit: commit ?? 'unknown',
    branch,
    dirty: status === undefined ? 'unknown' : String(status.length > 0),
    diffSha256:
      diff === undefined
        ? 'unknown'
        : createHash('sha256')
            .update(diff)
            .update('\0untracked\0')
            .update(untracked ?? '')
            .digest('hex'),
  };
}

const versionCache = new Map<string, Promise<string>>();

/** `bin --version`, first line, once per process and executable. */
function toolVersion(bin: string | undefined): Promise<string> {
  if (!bin) return Promise.resolve('unknown');
  let v = versionCache.get(bin);
  if (!v) {
    v = run(bin, ['--version'])
      .then(({ stdout }) => stdout.trim().split('\n')[0] ?? 'unknown')
      .catch(() => 'unknown');
    versionCache.set(bin, v);
  }
  return v;
}

/** The Temporal SDK version package-lock.json pins. */
function temporalSdkVersion(projectRoot: string): string {
  try {
    const lock = JSON.parse(
      fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8'),
    ) as {
      packages?: Record<string, { version?: string }>;
    };
    return lock.packages?.['node_modules/@temporalio/worker']?.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * What code and environment produced a run, as MLflow tags: git commit, dirty flag and a digest
 * of the uncommitted changes, hashes of package-lock.json and the Python tools lock, the Node,
 * MLflow, DVC and Temporal versions, the platform, the default DVC remote, and MLflow's own
 * `mlflow.source.*`. A tool that
 * cannot be asked is recorded as `unknown`; nothing here throws. In the image (no .git, no lock
 * files) the values the build recorded answer (`build`: ICECREAM_GIT_COMMIT and the lock hashes).
 */
export async function collectProvenance(
  projectRoot: string,
  entry: string,
  tools: ProvenanceTools = {},
  build: BuildInfo = loadBuildInfo(),
): Promise<Record<string, string>> {
  const [code, dvc, temporalCli, mlflow, remote] = await Promise.all([
    codeState(projectRoot),
    toolVersion(tools.dvc),
    toolVersion(tools.temporal),
    tools.mlflowVersion ? tools.mlflowVersion().catch(() => 'unknown') : Promise.resolve('unknown'),
    tools.dvc
      ? defaultDvcRemote(tools.dvc, projectRoot).then((r) => r ?? 'none')
      : Promise.resolve('unknown'),
  ]);
  const lockHash = (file: string, built: string | undefined): string =>
    fileSha256(path.join(projectRoot, file)) ?? built ?? 'missing';
  return {
    'mlflow.source.type': 'JOB',
    'mlflow.source.name': entry,
    [provenanceTags.commit]:
      code.commit !== 'unknown' ? code.commit : (build.gitCommit ?? 'unknown'),
    ...(code.branch ? { [provenanceTags.branch]: code.branch } : {}),
    // in the image (no .git) the build says whether it was built from a clean checkout
    [provenanceTags.dirty]: code.dirty === 'unknown' ? (build.gitDirty ?? 'unknown') : code.dirty,
    [provenanceTags.diffSha256]: code.diffSha256,
    [provenanceTags.packageLock]: lockHash('package-lock.json', build.packageLockSha256),
    [provenanceTags.pythonToolsLock]: lockHash('python-tools.lock', build.pythonToolsLockSha256),
    [provenanceTags.node]: process.version,
    [provenanceTags.platform]: `${process.platform}-${process.arch}`,
    [provenanceTags.mlflow]: mlflow,
    [provenanceTags.dvc]: dvc,
    [provenanceTags.temporalSdk]: temporalSdkVersion(projectRoot),
    [provenanceTags.temporalCli]: temporalCli,
    [provenanceTags.dvcRemote]: remote,
  };
}

const codeVersions = new Map<string, Promise<string>>();

/**
 * The code version a run's result depends on: the git commit, plus a hash of the uncommitted diff
 * when the tree is dirty; without git (an image), a hash of package.json and package-lock.json.
 * Computed once per process: the code a process runs does not change while it runs.
 */
export function codeVersion(projectRoot: string): Promise<string> {
  let v = codeVersions.get(projectRoot);
  if (!v) {
    v = computeCodeVersion(projectRoot);
    codeVersions.set(projectRoot, v);
  }
  return v;
}

async function computeCodeVersion(projectRoot: string): Promise<string> {
  const commit = await git(projectRoot, ['rev-parse', 'HEAD']);
  if (commit) {
    const diff = await git(projectRoot, ['diff', 'HEAD']);
    return diff
      ? `${commit}+${createHash('sha256').update(diff).digest('hex').slice(0, 12)}`
      : commit;
  }
  const hash = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json'])
    hash.update(fileSha256(path.join(projectRoot, f)) ?? 'missing');
  return `package-${hash.digest('hex').slice(0, 16)}`;
}
