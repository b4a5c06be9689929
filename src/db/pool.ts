import pg from 'pg';

export interface PoolOptions {
  /** connections per process (default 10) */
  max?: number;
  /** give up connecting after this long (default 5000 ms) */
  connectionTimeoutMillis?: number;
  /** server-side statement timeout (default 10000 ms) */
  statementTimeoutMs?: number;
  /** application_name shown in pg_stat_activity */
  applicationName?: string;
}

/**
 * A `pg` Pool for DATABASE_URL (or the local stack's URL). Errors of idle clients (the server
 * went away) are passed to `onIdleError` instead of crashing the process; the pool reconnects
 * on the next query.
 */
export function createPool(
  url: string,
  options: PoolOptions = {},
  onIdleError: (err: Error) => void = () => undefined,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'icecream',
  });
  pool.on('error', onIdleError);
  return pool;
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

// SQLSTATE classes/codes meaning "the server is not there right now", not "your query is wrong":
// 08 connection exception, 53 insufficient resources, 57P01-57P03 shutdown / cannot connect now.
const transientSqlState = /^(08|53|57P0[123])/;
const transientNodeCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/**
 * True when `err` says the database is unreachable or shutting down (worth retrying later),
 * false for errors in the query or the data (retrying cannot help).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (transientNodeCodes.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return transientSqlState.test(code);
  }
  // pg's own client-side errors carry no code
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout/i.test(
    err.message,
  );
}
