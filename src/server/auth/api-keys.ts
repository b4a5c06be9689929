import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { scopes, type Scope } from './scopes';

/** Every API key starts with this, so that a leaked key is recognisable (secret scanners, logs). */
export const apiKeyPrefix = 'icek_';
/** `icek_<16 hex: key id>_<43 base64url: 32 random bytes>` */
const keyPattern = /^icek_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What the store tells about a key: never the key itself, nor its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: readonly Scope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export type KeyVerdict =
  | { ok: true; key: ApiKeyInfo }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'revoked'; name?: string };

/**
 * Where API keys live. The file store below is the default; a PostgreSQL store can replace it.
 * `verify` is on every request's path, so it is synchronous: an implementation keeps the
 * (hashed) keys in memory and refreshes them when the backing store changes.
 */
export interface KeyStore {
  list(): Promise<ApiKeyInfo[]>;
  /** Creates a key; the returned `key` is the only time anyone sees it. */
  create(input: { name: string; scopes: readonly Scope[] }): Promise<{
    key: string;
    info: ApiKeyInfo;
  }>;
  /** Revokes the active key with this name. */
  revoke(name: string): Promise<ApiKeyInfo>;
  verify(presented: string): KeyVerdict;
  /** Records a use; written in batches, not once per request. */
  touch(id: string): void;
  /** Writes pending last-used times and stops timers. */
  close(): Promise<void>;
}

/** A key-store problem a user can fix: a bad name, a duplicate, an unknown key, a broken file. */
export class KeyStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyStoreError';
  }
}

const recordSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string().regex(namePattern),
  scopes: z.array(z.enum(scopes)),
  salt: z.string().min(16),
  hash: z.string().min(32),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
type KeyRecord = z.infer<typeof recordSchema>;
const fileSchema = z.object({
  version: z.literal(1),
  hash: z.literal('hmac-sha256'),
  keys: z.array(recordSchema),
});
type KeyFile = z.infer<typeof fileSchema>;

/**
 * The stored form of a key's secret: HMAC-SHA256 keyed by a random per-key salt. The secret is
 * 32 random bytes, so a slow KDF (scrypt) would add no strength, only a CPU cost an attacker
 * could trigger with wrong keys.
 */
const digestOf = (salt: string, secret: string): Buffer =>
  createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret).digest();

const infoOf = (r: KeyRecord): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  scopes: [...r.scopes],
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  revokedAt: r.revokedAt,
});

export interface FileKeyStoreOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** How often batched last-used times are written (default 10 s). */
  flushIntervalMs?: number;
  /** How often `verify` checks the file for changes by other processes (default 1 s). */
  reloadIntervalMs?: number;
}

/**
 * API keys in a JSON file (default `.local/api-keys.json`, mode 0600), written atomically
 * (temporary file + rename) under a lock file, re-read by every process when its mtime, size or
 * inode changes (checked at most once per `reloadIntervalMs`). Verified keys are cached in
 * memory under a keyed hash (a per-process random pepper), so a repeated key costs one SHA-256
 * and a map lookup, and the process never keeps a key in clear.
 */
export class FileKeyStore implements KeyStore {
  private records = new Map<string, KeyRecord>();
  /** The answer for each valid key, built once per read of the file (no allocation per request). */
  private accepted = new Map<string, KeyVerdict & { ok: true }>();
  /** keyed hash of a presented key -> its id, for keys verified before */
  private readonly verified = new Map<string, string>();
  private readonly pepper = randomBytes(32).toString('base64url');
  private signature = '';
  private checkedAt = -Infinity;
  /** key id -> last use (epoch ms), written in batches */
  private readonly pending = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  private readonly nowMs: () => number;
  private readonly flushIntervalMs: number;
  private readonly reloadIntervalMs: number;

  constructor(
    readonly file: string,
    options: FileKeyStoreOptions = {},
  ) {
    const now = options.now;
    this.now = now ?? (() => new Date());
    this.nowMs = now ? () => now().getTime() : Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.reloadIntervalMs = options.reloadIntervalMs ?? 1000;
    this.reload();
  }

  verify(presented: string): KeyVerdict {
    this.maybeReload();
    const cacheKey = hash('sha256', this.pepper + presented, 'base64url');
    const cachedId = this.verified.get(cacheKey);
    const cached = cachedId === undefined ? undefined : this.accepted.get(cachedId);
    if (cached) return cached;

    const m = keyPattern.exec(presented);
    if (!m) return { ok: false, reason: 'malformed' };
    const record = this.records.get(m[1]!);
    if (!record) return { ok: false, reason: 'unknown_key' };
    const expected = Buffer.from(record.hash, 'base64url');
    const actual = digestOf(record.salt, m[2]!);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      return { ok: false, reason: 'unknown_key' };
    }
    if (record.revokedAt !== null) return { ok: false, reason: 'revoked', name: record.name };
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(cacheKey, record.id);
    return this.accepted.get(record.id)!;
  }

  touch(id: string): void {
    this.pending.set(id, this.nowMs());
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch(() => undefined); // retried with the next use; never fails a request
    }, this.flushIntervalMs).unref();
  }

  /** Writes the batched last-used times (merged into the file as it is now). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    try {
      await this.mutate((file) => {
        for (const r of file.keys) {
          const ms = batch.get(r.id);
          const usedAt = ms === undefined ? undefined : new Date(ms).toISOString();
          if (usedAt && (r.lastUsedAt === null || r.lastUsedAt < usedAt)) r.lastUsedAt = usedAt;
        }
      });
    } catch (err) {
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      throw err;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async: a read error rejects
  async list(): Promise<ApiKeyInfo[]> {
    this.reload();
    return [...this.records.values()].map(infoOf);
  }

  async create(input: {
    name: string;
    scopes: readonly Scope[];
  }): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!namePattern.test(input.name)) {
      throw new KeyStoreError(
        `invalid key name ${JSON.stringify(input.name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    }
    if (input.scopes.length === 0) {
      throw new KeyStoreError(`a key needs at least one scope: ${scopes.join(', ')}`);
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16).toString('base64url');
    const record: KeyRecord = {
      id,
      name: input.name,
      scopes: scopes.filter((s) => input.scopes.includes(s)),
      salt,
      hash: digestOf(salt, secret).toString('base64url'),
      createdAt: this.now().toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.mutate((file) => {
      if (file.keys.some((k) => k.name === input.name && k.revokedAt === null)) {
        throw new KeyStoreError(
          `an active key named ${JSON.stringify(input.name)} already exists in ${this.file}: choose another name or revoke it first`,
        );
      }
      file.keys.push(record);
    });
    return { key: `${apiKeyPrefix}${id}_${secret}`, info: infoOf(record) };
  }

  async revoke(name: string): Promise<ApiKeyInfo> {
    let revoked: KeyRecord | undefined;
    await this.mutate((file) => {
      revoked = file.keys.find((k) => k.name === name && k.revokedAt === null);
      if (!revoked) {
        throw new KeyStoreError(`no active key named ${JSON.stringify(name)} in ${this.file}`);
      }
      revoked.revokedAt = this.now().toISOString();
    });
    return infoOf(revoked!);
  }

  private maybeReload(): void {
    const t = performance.now();
    if (t - this.checkedAt < this.reloadIntervalMs) return;
    this.checkedAt = t;
    try {
      this.reload();
    } catch {
      // a file broken by hand: keep serving the keys read last; the CLI reports the problem
    }
  }

  /** Re-reads the file when it changed since the last read. */
  private reload(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.replace(new Map(), 'absent');
      return;
    }
    const signature = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (signature === this.signature) return;
    const file = this.read();
    this.replace(new Map(file.keys.map((k) => [k.id, k])), signature);
  }

  private replace(records: Map<string, KeyRecord>, signature: string): void {
    this.records = records;
    this.accepted = new Map(
      [...records.values()]
        .filter((r) => r.revokedAt === null)
        .map((r) => [r.id, Object.freeze({ ok: true as const, key: Object.freeze(infoOf(r)) })]),
    );
    this.signature = signature;
    this.verified.clear();
  }

  private read(): KeyFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { version: 1, hash: 'hmac-sha256', keys: [] };
      }
      throw new KeyStoreError(`cannot read the API key file ${this.file}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new KeyStoreError(`the API key file ${this.file} is not valid JSON`, { cause: err });
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new KeyStoreError(
        `the API key file ${this.file} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`,
      );
    }
    return parsed.data;
  }

  /** Read-modify-write of the file under a lock, then an atomic replace. */
  private async mutate(change: (file: KeyFile) => void): Promise<void> {
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const release = await lock(`${this.file}.lock`);
    try {
      const file = this.read();
      change(file);
      await writeAtomically(this.file, `${JSON.stringify(file, null, 2)}\n`);
    } finally {
      await release();
    }
    this.signature = '';
    this.reload();
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, file);
}

/** A lock file created exclusively; a lock older than 30 s is stale (its holder died). */
async function lock(lockFile: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const handle = await fs.promises.open(lockFile, 'wx', 0o600);
      await handle.close();
      return () => fs.promises.rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await fs.promises
        .stat(lockFile)
        .then((s) => Date.now() - s.mtimeMs)
        .catch(() => 0);
      if (age > 30_000) await fs.promises.rm(lockFile, { force: true });
      else if (Date.now() > deadline) {
        throw new KeyStoreError(`the API key file is locked by another process (${lockFile})`);
      } else await new Promise((r) => setTimeout(r, 25));
    }
  }
}
