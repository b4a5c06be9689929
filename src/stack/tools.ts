import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../config';
import { sleep } from './processes';

const run = promisify(execFile);

/** Paths of the pinned Python tools inside the project's virtualenv. */
export interface Tools {
  venv: string;
  python: string;
  mlflow: string;
  dvc: string;
  temporal: string;
}

/** Python 3.10+ is missing or the pinned tools could not be installed. */
export class ToolsInstallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToolsInstallError';
  }
}

export const toolsLockFile = path.join(projectRoot, 'python-tools.lock');

export function toolPaths(toolsDir: string): Tools {
  const venv = path.join(toolsDir, 'venv');
  const bin = path.join(venv, 'bin');
  return {
    venv,
    python: path.join(bin, 'python'),
    mlflow: path.join(bin, 'mlflow'),
    dvc: path.join(bin, 'dvc'),
    temporal: path.join(bin, 'temporal'),
  };
}

export function lockDigest(lockFile = toolsLockFile): string {
  return createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
}

function isInstalled(tools: Tools, stamp: string, digest: string): boolean {
  try {
    return (
      fs.readFileSync(stamp, 'utf8').trim() === digest &&
      [tools.mlflow, tools.dvc, tools.temporal].every((f) => fs.existsSync(f))
    );
  } catch {
    return false;
  }
}

async function checkPython(python: string): Promise<void> {
  let version: string;
  try {
    const { stdout } = await run(python, [
      '-c',
      'import sys, venv; print("%d.%d" % sys.version_info[:2])',
    ]);
    version = stdout.trim();
  } catch (err) {
    throw new ToolsInstallError(
      `Python 3.10+ with the venv module is required to install mlflow, dvc and temporal into .tools/, ` +
        `but "${python} -c 'import venv'" failed. Install Python 3 (Debian/Ubuntu: apt-get install python3 python3-venv) ` +
        `or point PYTHON at an interpreter.`,
      { cause: err },
    );
  }
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 10)) {
    throw new ToolsInstallError(
      `Python ${version} found at "${python}", but 3.10+ is required (set PYTHON).`,
    );
  }
}

/**
 * Makes sure the pinned Python tools (python-tools.lock, hashes required) are installed in
 * `<toolsDir>/venv`. Re-uses the venv while the lock is unchanged; reinstalls when it changes.
 * Safe to call from several processes at once (a lock folder serialises installs).
 * @throws ToolsInstallError when Python is missing or pip fails (with the pip log path).
 */
export async function ensureTools(
  toolsDir: string,
  python: string,
  onInstall: (message: string) => void = () => undefined,
): Promise<Tools> {
  const tools = toolPaths(toolsDir);
  const stamp = path.join(toolsDir, 'lock.sha256');
  const digest = lockDigest();
  if (isInstalled(tools, stamp, digest)) return tools;

  fs.mkdirSync(toolsDir, { recursive: true });
  const lockDir = path.join(toolsDir, '.installing');
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch {
      // another process installs; a lock older than 15 minutes is stale (the installer died)
      const age =
        Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 15 * 60_000) fs.rmSync(lockDir, { recursive: true, force: true });
      await sleep(1000);
      if (isInstalled(tools, stamp, digest)) return tools;
    }
  }
  try {
    if (isInstalled(tools, stamp, digest)) return tools;
    await checkPython(python);
    const log = path.join(toolsDir, 'install.log');
    onInstall(
      `installing the pinned Python tools (mlflow, dvc, temporal) into ${tools.venv}; first time only, about a minute (log: ${log})`,
    );
    const started = Date.now();
    fs.rmSync(tools.venv, { recursive: true, force: true });
    fs.rmSync(stamp, { force: true });
    try {
      await run(python, ['-m', 'venv', tools.venv]);
      const { stdout, stderr } = await run(
        tools.python,
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--require-hashes',
          '-r',
          toolsLockFile,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      fs.writeFileSync(log, stdout + stderr);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      fs.writeFileSync(log, `${e.stdout ?? ''}${e.stderr ?? ''}`);
      throw new ToolsInstallError(
        `installing the Python tools failed; see ${log}\n${(e.stderr ?? '').split('\n').slice(-8).join('\n')}`,
        { cause: err },
      );
    }
    fs.writeFileSync(stamp, `${digest}\n`);
    onInstall(`Python tools installed in ${Math.round((Date.now() - started) / 1000)} s`);
    return tools;
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
