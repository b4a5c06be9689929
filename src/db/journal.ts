import type pg from 'pg';

/** A monitoring result kept over time (drift report, live quality, canary analysis). */
export interface Snapshot<T = unknown> {
  time: Date;
  kind: string;
  payload: T;
}

export async function saveSnapshot(db: pg.Pool, kind: string, payload: unknown): Promise<void> {
  await db.query('INSERT INTO monitoring_snapshots (kind, payload) VALUES ($1, $2)', [
    kind,
    JSON.stringify(payload),
  ]);
}

/** The latest `limit` snapshots of a kind, newest first. */
export async function recentSnapshots(db: pg.Pool, kind: string, limit = 100): Promise<Snapshot[]> {
  const r = await db.query<Snapshot>(
    `SELECT time, kind, payload FROM monitoring_snapshots WHERE kind = $1
      ORDER BY time DESC, id DESC LIMIT $2`,
    [kind, limit],
  );
  return r.rows;
}

/** One audited action: who (key name or JWT subject, or `system` for the analysis loop). */
export interface AuditEntry {
  time: Date;
  actor: string;
  action: string;
  payload: Record<string, unknown>;
}

export async function appendAudit(
  db: pg.Pool,
  actor: string,
  action: string,
  payload: Record<string, unknown> = {},
): Promise<void> {
  await db.query('INSERT INTO audit (actor, action, payload) VALUES ($1, $2, $3)', [
    actor,
    action,
    JSON.stringify(payload),
  ]);
}

/** The latest `limit` audit entries, newest first. */
export async function recentAudit(db: pg.Pool, limit = 100): Promise<AuditEntry[]> {
  const r = await db.query<AuditEntry>(
    'SELECT time, actor, action, payload FROM audit ORDER BY time DESC, id DESC LIMIT $1',
    [limit],
  );
  return r.rows;
}
