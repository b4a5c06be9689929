import type pg from 'pg';
import type { Logger } from '../logger';

/**
 * Which API process decides: the canary analysis acts (promote / roll back) and alarms start
 * retraining only in the leader. Every process applies the decisions: an alias move or a
 * rejection tag reaches the others through the registry on their next model refresh.
 */
export interface Leadership {
  /** True while this process is the one that decides. */
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** A fixed answer: a single process (always), or a cluster worker the primary designated. */
export function fixedLeadership(isLeader: () => boolean): Leadership {
  return { isLeader, stop: () => Promise.resolve() };
}

/**
 * Leadership by a PostgreSQL session advisory lock (`pg_try_advisory_lock`), for every process
 * (any host) sharing the database: one connection of the pool is kept for the lock; the process
 * holding it leads. Tried again every `seconds` (the holder checks its connection is alive): when
 * the leader dies or loses its connection, PostgreSQL releases the lock and another process takes
 * it on its next try. Never throws: a database that is down means no leader until it is back.
 */
export class AdvisoryLockLeadership implements Leadership {
  private client: pg.PoolClient | undefined;
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    /** Names the lock: processes with the same name compete (e.g. the registered model). */
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  isLeader(): boolean {
    return this.held;
  }

  /** One try now (joins one in flight). */
  tick(): Promise<void> {
    this.running ??= this.attempt().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Tries every `seconds` from now on (the first try joins one in flight). */
  start(seconds: number): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.release();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.client) {
        const client = await this.pool.connect();
        // a lost connection: PostgreSQL has released the lock with it
        client.on('error', () => this.release());
        this.client = client;
      }
      if (this.held) {
        await this.client.query('SELECT 1');
        return;
      }
      const r = await this.client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)::bigint) AS ok',
        [`icecream-decisions:${this.name}`],
      );
      this.held = r.rows[0]?.ok === true;
      if (this.held) this.log.info({ lock: this.name }, 'this process leads the decision loops');
    } catch (err) {
      this.log.warn({ err }, 'leadership check failed; not deciding until it works again');
      this.release();
    }
  }

  private release(): void {
    // losing the lock is news; giving it up on a clean stop is not
    if (this.held && !this.stopped)
      this.log.warn({ lock: this.name }, 'this process no longer leads');
    this.held = false;
    const client = this.client;
    this.client = undefined;
    // the connection is closed, not pooled: closing it releases the session lock
    client?.release(true);
  }
}
