/**
 * Release control the server needs from the registry governance, injected by the entry points
 * (src/serving-admin.ts wires src/pipeline/registry.ts): the server never imports the pipeline.
 */

/** One audit record: who moved which alias (or the traffic) from what to what, when and why. */
export interface AuditEntry {
  at: string;
  by: string;
  action: string;
  alias: string;
  from: string | null;
  to: string;
  reason: string;
}

/** A release request that cannot be carried out (unknown version, nothing to roll back to): 409. */
export class AdminActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminActionError';
  }
}

export interface AdminActions {
  /** Moves `production` to `version`, with an audit record. @throws AdminActionError */
  promote(input: { version: string; reason: string; by: string }): Promise<AuditEntry | null>;
  /** Moves `production` back (to `to`, else to where it was before). @throws AdminActionError */
  rollback(input: {
    to?: string | undefined;
    reason: string;
    by: string;
  }): Promise<AuditEntry | null>;
  /** Records that the `staging` version was taken out of traffic, and tags it with the reason. */
  rejectCanary(input: { version: string; reason: string; by: string }): Promise<AuditEntry | null>;
  /** The registry's audit history, oldest first. */
  history(): Promise<AuditEntry[]>;
}

/**
 * The audit trail /v1/monitoring shows: the registry's history plus what only this process knows
 * (traffic changes), newest first.
 */
export class AuditTrail {
  private readonly local: AuditEntry[] = [];

  constructor(private readonly actions: AdminActions | undefined) {}

  add(entry: Omit<AuditEntry, 'at'>): AuditEntry {
    const full = { at: new Date().toISOString(), ...entry };
    this.local.push(full);
    if (this.local.length > 500) this.local.shift();
    return full;
  }

  private cached: { at: number; entries: AuditEntry[] } | undefined;

  /** Forgets the cached registry history (after an action of this process). */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * The latest `limit` entries; the local ones alone when the registry cannot be read. The
   * registry's history is read at most every 5 s (a dashboard polls /v1/monitoring).
   */
  async latest(limit = 50): Promise<AuditEntry[]> {
    const now = Date.now();
    if (this.actions && (!this.cached || now - this.cached.at > 5000)) {
      const entries = await this.actions.history().catch(() => this.cached?.entries ?? []);
      this.cached = { at: now, entries };
    }
    const registry = this.cached?.entries ?? [];
    return [...registry, ...this.local]
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
      .slice(0, limit);
  }
}
