import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyStore, KeyStoreError } from './api-keys';
import { ScopeListError, parseScopes } from './scopes';

let dir: string;
let file: string;
const stores: FileKeyStore[] = [];
const open = (options: ConstructorParameters<typeof FileKeyStore>[1] = {}): FileKeyStore => {
  const s = new FileKeyStore(file, { reloadIntervalMs: 0, ...options });
  stores.push(s);
  return s;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-keys-'));
  file = path.join(dir, 'local', 'api-keys.json');
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('FileKeyStore', () => {
  it('creates a random icek_ key with 32 bytes of secret, shown once and stored only hashed', async () => {
    const store = open();
    const { key, info } = await store.create({ name: 'ci', scopes: ['predict', 'feedback'] });
    const m = /^icek_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(key);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![2]!, 'base64url')).toHaveLength(32);
    expect(info).toMatchObject({ name: 'ci', scopes: ['predict', 'feedback'], lastUsedAt: null });

    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(m![2]!);
    expect(text).not.toContain(createHash('sha256').update(m![2]!).digest('base64url'));
    const stored = (JSON.parse(text) as { keys: { salt: string; hash: string }[] }).keys[0]!;
    expect(Buffer.from(stored.salt, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(JSON.stringify(await store.list())).not.toContain(stored.hash);
  });

  it('salts each key: two keys never share a salt or a hash', async () => {
    const store = open();
    await store.create({ name: 'a', scopes: ['predict'] });
    await store.create({ name: 'b', scopes: ['predict'] });
    const [a, b] = (
      JSON.parse(fs.readFileSync(file, 'utf8')) as {
        keys: { salt: string; hash: string }[];
      }
    ).keys;
    expect(a!.salt).not.toBe(b!.salt);
    expect(a!.hash).not.toBe(b!.hash);
  });

  it('writes the file with mode 0600 and leaves no temporary file behind', async () => {
    const store = open();
    await store.create({ name: 'a', scopes: ['admin'] });
    await store.revoke('a');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['api-keys.json']);
  });

  it('verifies a key, and refuses a changed secret, an unknown id and a malformed key', async () => {
    const store = open();
    const { key } = await store.create({ name: 'ci', scopes: ['predict'] });
    const ok = store.verify(key);
    expect(ok).toMatchObject({ ok: true, key: { name: 'ci', scopes: ['predict'] } });
    expect(store.verify(key)).toEqual(ok); // second time from the in-memory cache

    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(store.verify(key.slice(0, -1) + last)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(store.verify(key.replace(/^icek_[0-9a-f]{16}/, 'icek_0000000000000000'))).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
    expect(store.verify('icek_short')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a revoked key, even one verified (cached) before', async () => {
    const store = open();
    const { key } = await store.create({ name: 'ci', scopes: ['predict'] });
    expect(store.verify(key).ok).toBe(true);
    const revoked = await store.revoke('ci');
    expect(revoked.revokedAt).not.toBeNull();
    expect(store.verify(key)).toEqual({ ok: false, reason: 'revoked', name: 'ci' });
  });

  it('sees keys created and revoked by another process through the file', async () => {
    const server = open();
    const cli = open();
    const { key } = await cli.create({ name: 'late', scopes: ['metrics'] });
    expect(server.verify(key)).toMatchObject({ ok: true, key: { scopes: ['metrics'] } });
    await cli.revoke('late');
    expect(server.verify(key)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('checks the file for changes at most once per reload interval', async () => {
    const server = open({ reloadIntervalMs: 60_000 });
    expect(server.verify('icek_0000000000000000_' + 'A'.repeat(43)).ok).toBe(false); // checks now
    const { key } = await open().create({ name: 'late', scopes: ['predict'] });
    expect(server.verify(key)).toMatchObject({ ok: false, reason: 'unknown_key' });
  });

  it('refuses a duplicate active name, a bad name and an empty scope list, naming the problem', async () => {
    const store = open();
    await store.create({ name: 'ci', scopes: ['predict'] });
    await expect(store.create({ name: 'ci', scopes: ['admin'] })).rejects.toThrow(
      /an active key named "ci" already exists/,
    );
    await expect(store.create({ name: 'no spaces', scopes: ['admin'] })).rejects.toThrow(
      KeyStoreError,
    );
    await expect(store.create({ name: 'x', scopes: [] })).rejects.toThrow(/at least one scope/);
    await expect(store.revoke('nobody')).rejects.toThrow(/no active key named "nobody"/);
    // a revoked name can be used again
    await store.revoke('ci');
    await expect(store.create({ name: 'ci', scopes: ['predict'] })).resolves.toBeDefined();
  });

  it('batches last-used times: nothing is written per request, all of it on flush', async () => {
    let now = new Date('2026-12-01T10:00:00Z');
    const store = open({ now: () => now, flushIntervalMs: 60_000 });
    const { key, info } = await store.create({ name: 'ci', scopes: ['predict'] });
    const before = fs.statSync(file).mtimeMs;
    for (let i = 0; i < 100; i++) {
      const v = store.verify(key);
      if (v.ok) store.touch(v.key.id);
      now = new Date(now.getTime() + 1000);
    }
    expect(fs.statSync(file).mtimeMs).toBe(before);
    expect((await store.list())[0]!.lastUsedAt).toBeNull();
    await store.flush();
    const used = (await open().list()).find((k) => k.id === info.id);
    expect(used?.lastUsedAt).toBe('2026-12-01T10:01:39.000Z');
  });

  it('reports a broken key file by name', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"version":1,"hash":"hmac-sha256","keys":[{"id":"zz"}]}');
    expect(() => open()).toThrow(/api-keys\.json is invalid at keys\.0\.id/);
    fs.writeFileSync(file, 'not json');
    expect(() => open()).toThrow(/api-keys\.json is not valid JSON/);
  });
});

describe('parseScopes', () => {
  it('accepts comma or space separated known scopes, sorted and unique', () => {
    expect(parseScopes('metrics,predict predict')).toEqual(['predict', 'metrics']);
  });

  it('names the unknown scopes and lists the valid ones', () => {
    expect(() => parseScopes('predict,write')).toThrow(ScopeListError);
    expect(() => parseScopes('predict,write')).toThrow(
      'unknown scope(s) "write": choose from predict, feedback, admin, metrics',
    );
    expect(() => parseScopes(' ')).toThrow(/no scopes given/);
  });
});
