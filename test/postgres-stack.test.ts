import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { postgresPaths } from '../src/stack/postgres';
import { freePort, PortInUseError } from '../src/stack/processes';
import { stackDown, stackStatus, stackUp } from '../src/stack/stack';
import { startTestStack, type TestStack } from './helpers/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack(['postgres']);
});

afterAll(async () => {
  await stack?.stop();
});

async function selectOne(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ who: string }>('SELECT current_user AS who, 1 AS one')).rows[0];
  } finally {
    await client.end();
  }
}

describe('local PostgreSQL in the stack', () => {
  it('answers SELECT 1 as the icecream role on the icecream database, on 127.0.0.1 only', async () => {
    expect(await selectOne(stack.config.postgres.url)).toEqual({ who: 'icecream', one: 1 });
    const status = (await stackStatus(stack.config)).find((s) => s.name === 'postgres');
    expect(status).toMatchObject({ ready: true });
    expect(status?.url).not.toContain('icecream-local-only');
  });

  it('keeps its data across stack down and up', async () => {
    const client = new pg.Client({ connectionString: stack.config.postgres.url });
    await client.connect();
    await client.query('CREATE TABLE IF NOT EXISTS survives (x int)');
    await client.query('INSERT INTO survives VALUES (42)');
    await client.end();
    expect(await stackDown(stack.config, ['postgres'])).toEqual(['postgres']);
    expect(await stackUp(stack.config, () => undefined, ['postgres'])).toEqual(['postgres']);
    const again = new pg.Client({ connectionString: stack.config.postgres.url });
    await again.connect();
    const rows = (await again.query<{ x: number }>('SELECT x FROM survives')).rows;
    await again.end();
    expect(rows).toEqual([{ x: 42 }]);
  });

  it('refuses a port held by another process, naming PG_PORT', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const config = loadConfig({
        ICECREAM_LOCAL_DIR: `${stack.dir}/other`,
        PG_PORT: String(port),
      });
      const error = await stackUp(config, () => undefined, ['postgres']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as PortInUseError).message).toContain('PG_PORT');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('starts no local server when DATABASE_URL points at an external database', async () => {
    const config = loadConfig({
      ICECREAM_LOCAL_DIR: `${stack.dir}/external`,
      DATABASE_URL: stack.config.postgres.url,
    });
    expect(config.postgres).toMatchObject({ external: true, url: stack.config.postgres.url });
    expect(await stackUp(config, () => undefined, ['postgres'])).toEqual([]);
    expect((await stackStatus(config)).map((s) => s.name)).not.toContain('postgres');
  });

  it.runIf(process.getuid?.() === 0)(
    'as root, runs the server as another user even from a folder only root can enter',
    async () => {
      const privateDir = path.join(stack.dir, 'private');
      fs.mkdirSync(privateDir, { mode: 0o700 });
      const config = loadConfig({
        ICECREAM_LOCAL_DIR: path.join(privateDir, 'local'),
        PG_PORT: String(await freePort()),
      });
      const paths = postgresPaths(config.localDir);
      expect(paths.dataLink).toBe(path.join(config.localDir, 'postgres', 'data'));
      try {
        expect(await stackUp(config, () => undefined, ['postgres'])).toEqual(['postgres']);
        expect(await selectOne(config.postgres.url)).toEqual({ who: 'icecream', one: 1 });
        expect(fs.realpathSync(paths.dataLink!)).toBe(paths.dataDir);
      } finally {
        await stackDown(config, ['postgres']);
        fs.rmSync(path.dirname(paths.dataDir), { recursive: true, force: true });
      }
    },
  );
});
