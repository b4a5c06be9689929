import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

/** An immutable reference to a dataset: where it is and the md5 DVC pins for it. */
export interface DatasetRef {
  path: string;
  md5: string;
  size: number | undefined;
  dvcFile: string;
}

/** The data file does not match the md5 pinned in its .dvc file (permanent: retrying will not help). */
export class DataHashMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expectedMd5: string,
    readonly actualMd5: string,
    readonly dvcFile: string,
  ) {
    super(`${path} has md5 ${actualMd5} but ${dvcFile} pins md5 ${expectedMd5}: the data changed without "dvc commit", or the wrong file is in place`);
    this.name = 'DataHashMismatchError';
  }
}

/** A .dvc file that cannot be read or has no single output with an md5. */
export class DvcFileError extends Error {
  constructor(readonly dvcFile: string, reason: string, options?: { cause?: unknown }) {
    super(`${dvcFile}: ${reason}`, options);
    this.name = 'DvcFileError';
  }
}

/** A `dvc` command failed; carries its stderr. */
export class DvcCommandError extends Error {
  constructor(readonly args: readonly string[], readonly stderr: string, options?: { cause?: unknown }) {
    super(`dvc ${args.join(' ')} failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`, options);
    this.name = 'DvcCommandError';
  }
}

/**
 * Reads the single output a .dvc file pins (path resolved next to the .dvc file).
 * @throws DvcFileError when missing or malformed.
 */
export function readDvcFile(dvcFile: string): DatasetRef {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(dvcFile, 'utf8'));
  } catch (err) {
    throw new DvcFileError(dvcFile, 'cannot be read as YAML', { cause: err });
  }
  const outs = (doc as { outs?: unknown } | null)?.outs;
  if (!Array.isArray(outs) || outs.length !== 1) throw new DvcFileError(dvcFile, 'expected exactly one entry under "outs"');
  const out = outs[0] as { md5?: unknown; path?: unknown; size?: unknown };
  if (typeof out.md5 !== 'string' || !/^[0-9a-f]{32}$/.test(out.md5)) throw new DvcFileError(dvcFile, 'outs[0].md5 is missing or not an md5');
  if (typeof out.path !== 'string') throw new DvcFileError(dvcFile, 'outs[0].path is missing');
  return {
    path: path.resolve(path.dirname(dvcFile), out.path),
    md5: out.md5,
    size: typeof out.size === 'number' ? out.size : undefined,
    dvcFile: path.resolve(dvcFile),
  };
}

export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks that `dataPath` is the file `dvcFile` pins and that its bytes have the pinned md5.
 * @throws DataHashMismatchError (both hashes named), DvcFileError.
 */
export async function verifyDataset(dataPath: string, dvcFile: string): Promise<DatasetRef> {
  const ref = readDvcFile(dvcFile);
  if (path.resolve(dataPath) !== ref.path) {
    throw new DvcFileError(dvcFile, `pins ${ref.path}, not ${path.resolve(dataPath)}`);
  }
  const actual = await md5File(ref.path);
  if (actual !== ref.md5) throw new DataHashMismatchError(ref.path, ref.md5, actual, ref.dvcFile);
  return ref;
}

/** A small typed wrapper around the pinned `dvc` CLI. */
export class Dvc {
  constructor(
    readonly bin: string,
    readonly cwd: string,
    readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  async run(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run(this.bin, [...args], { cwd: this.cwd, env: { ...this.env }, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      throw new DvcCommandError(args, (err as { stderr?: string }).stderr ?? String(err), { cause: err });
    }
  }

  /** Fetches the pinned data from the default remote into the workspace. */
  async pull(targets: readonly string[] = []): Promise<void> {
    await this.run(['pull', '--quiet', ...targets]);
  }

  /** `dvc status --json`: an empty object means the workspace matches what is pinned. */
  async status(targets: readonly string[] = []): Promise<Record<string, unknown>> {
    return JSON.parse((await this.run(['status', '--json', ...targets])) || '{}') as Record<string, unknown>;
  }

  /** Downloads the pinned objects of `targets` from the default remote into DVC's cache (not the workspace). */
  async fetch(targets: readonly string[] = []): Promise<void> {
    await this.run(['fetch', '--quiet', ...targets]);
  }

  /** DVC's cache folder (`dvc cache dir`), or undefined when DVC cannot tell. */
  async cacheDir(): Promise<string | undefined> {
    return (await this.run(['cache', 'dir']).catch(() => '')).trim() || undefined;
  }

  async repro(targets: readonly string[] = []): Promise<string> {
    return this.run(['repro', ...targets]);
  }
}

/**
 * Makes sure the pinned dataset is in the workspace: pulls from the DVC remote when the file is
 * missing (a fresh clone), then verifies it. A file that exists but differs from the pin is
 * never overwritten: that is the user's data and verification fails with both hashes.
 */
export async function ensureDataset(dvc: Dvc, dataPath: string, dvcFile: string): Promise<DatasetRef> {
  if (!fs.existsSync(dataPath)) {
    // everything DVC tracks (the data and the cached outputs of dvc.yaml), so that `dvc status`
    // is clean in a fresh clone; if some pipeline output is not in the remote, the data alone
    await dvc.pull().catch(() => dvc.pull([dvcFile]));
  }
  return verifyDataset(dataPath, dvcFile);
}
