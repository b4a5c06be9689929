import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { projectRoot } from '../config';
import { FileKeyStore } from '../server/auth';
import { registerKeys } from './keys';

let dir = '';
let file = '';

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s) => (out.push(String(s)), true));
  try {
    const program = new Command('icecream').exitOverride();
    registerKeys(program);
    await program.parseAsync(['node', 'icecream', 'keys', ...args]);
  } finally {
    o.mockRestore();
  }
  return out.join('');
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-cli-keys-'));
  file = path.join(dir, 'api-keys.json');
  vi.stubEnv('AUTH_KEYS_FILE', file);
});
afterEach(() => {
  vi.unstubAllEnvs();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('icecream keys', () => {
  it('creates a key, prints it once, and the stored hash verifies it', async () => {
    const text = await run(['create', '--name', 'ci', '--scopes', 'predict,feedback']);
    const key = /icek_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/.exec(text)?.[0];
    expect(key).toBeDefined();
    expect(text).toContain('shown only this once');
    const store = new FileKeyStore(file);
    expect(store.verify(key!)).toMatchObject({
      ok: true,
      key: { name: 'ci', scopes: ['predict', 'feedback'] },
    });
    await store.close();

    const listed = await run(['list']);
    expect(listed).toMatch(
      /^NAME\s+SCOPES\s+CREATED\s+LAST USED\s+STATUS\nci\s+predict,feedback\s/,
    );
    expect(listed).not.toContain(key!.slice(5));
  });

  it('prints JSON with --json, the key only on create', async () => {
    const created = JSON.parse(
      await run(['create', '--name', 'scraper', '--scopes', 'metrics', '--json']),
    ) as { key: string; name: string; scopes: string[] };
    expect(created).toMatchObject({ name: 'scraper', scopes: ['metrics'] });
    expect(created.key).toMatch(/^icek_/);
    const listed = JSON.parse(await run(['list', '--json'])) as Record<string, unknown>[];
    expect(listed).toEqual([
      expect.objectContaining({ name: 'scraper', scopes: ['metrics'], revoked_at: null }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const revoked = JSON.parse(await run(['revoke', 'scraper', '--json'])) as {
      revoked_at: string | null;
    };
    expect(revoked.revoked_at).not.toBeNull();
  });

  it('refuses a bad scope, a duplicate name and an unknown key, naming the problem', async () => {
    await expect(run(['create', '--name', 'x', '--scopes', 'predict,write'])).rejects.toThrow(
      'unknown scope(s) "write": choose from predict, feedback, admin, metrics',
    );
    await run(['create', '--name', 'x', '--scopes', 'predict']);
    await expect(run(['create', '--name', 'x', '--scopes', 'admin'])).rejects.toThrow(
      /an active key named "x" already exists/,
    );
    await expect(run(['revoke', 'nobody'])).rejects.toThrow(/no active key named "nobody"/);
  });

  it('exits non-zero with the message on stderr (the built command)', async () => {
    const main = path.join(projectRoot, 'dist', 'cli', 'main.js');
    const err = await promisify(execFile)(
      process.execPath,
      [main, 'keys', 'create', '--name', 'x', '--scopes', 'everything'],
      { env: { ...process.env, AUTH_KEYS_FILE: file } },
    ).then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('error: unknown scope(s) "everything"');
  });
});
