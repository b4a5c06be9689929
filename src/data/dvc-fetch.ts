import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { md5File } from './dvc';

const run = promisify(execFile);

/** No reachable DVC remote holds the requested md5. Not retryable with the same remotes. */
export class DataNotInRemoteError extends Error {
  constructor(
    readonly md5: string,
    readonly remotes: readonly string[],
    readonly reasons: readonly string[],
  ) {
    super(
      `data md5 ${md5} is in no reachable DVC remote (tried: ${
        remotes.length
          ? remotes.map((r, i) => `${r}: ${reasons[i] ?? 'failed'}`).join('; ')
          : 'no remote is configured'
      })`,
    );
    this.name = 'DataNotInRemoteError';
  }
}

/**
 * The URL of the default DVC remote of the repository at `projectRoot` (`dvc config --list`
 * resolves relative local paths), or undefined when none is configured.
 */
export async function defaultDvcRemote(
  dvcBin: string,
  projectRoot: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<string | undefined> {
  try {
    const { stdout } = await run(dvcBin, ['config', '--list'], {
      cwd: projectRoot,
      env: { ...env },
    });
    const entries = new Map(
      stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]),
    );
    const name = entries.get('core.remote');
    return name ? entries.get(`remote.${name}.url`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fetches the file with DVC md5 `md5` from the first of `remotes` that has it, through DVC itself
 * (so any remote DVC supports works), into `<destDir>/<fileName>`; the md5 of what arrived is
 * checked. Works in a throw-away DVC repository, so the user's workspace and cache are untouched.
 * @throws DataNotInRemoteError naming every remote tried and why it failed
 */
export async function fetchByMd5(
  dvcBin: string,
  md5: string,
  remotes: readonly string[],
  destDir: string,
  fileName: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<{ path: string; remote: string }> {
  if (!/^[0-9a-f]{32}$/.test(md5)) throw new DataNotInRemoteError(md5, [], ['not an md5']);
  const reasons: string[] = [];
  for (const remote of remotes) {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-dvc-fetch-'));
    try {
      const dvc = (args: string[]) =>
        run(dvcBin, args, { cwd: repo, env: { ...env, DVC_NO_ANALYTICS: '1' } });
      await dvc(['init', '--no-scm', '--quiet']);
      await dvc(['config', 'core.analytics', 'false']);
      await dvc(['remote', 'add', '--default', 'source', remote]);
      fs.writeFileSync(
        path.join(repo, `${fileName}.dvc`),
        `outs:\n- md5: ${md5}\n  path: ${fileName}\n  hash: md5\n`,
      );
      await dvc(['pull', '--quiet', `${fileName}.dvc`]);
      const fetched = path.join(repo, fileName);
      const actual = await md5File(fetched);
      if (actual !== md5) {
        reasons.push(`it returned md5 ${actual}`);
        continue;
      }
      fs.mkdirSync(destDir, { recursive: true });
      const dest = path.join(destDir, fileName);
      fs.copyFileSync(fetched, dest);
      return { path: dest, remote };
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      reasons.push(stderr.trim().split('\n').slice(-1)[0]?.slice(0, 200) || 'failed');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }
  throw new DataNotInRemoteError(md5, remotes, reasons);
}
