import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LogLines } from './log-lines';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-log-lines-'));
const files: number[] = [];
afterEach(() => {
  for (const fd of files.splice(0)) fs.closeSync(fd);
});

function open(name: string): { fd: number; read: () => string } {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  files.push(fd);
  return { fd, read: () => fs.readFileSync(file, 'utf8') };
}
const flushed = (lines: LogLines) => new Promise<void>((resolve) => lines.flush(resolve));

describe('LogLines', () => {
  it('writes a quiet log within the interval, not after 16 K characters', async () => {
    const { fd, read } = open('quiet.log');
    const log = pino({ name: 'api' }, new LogLines(fd, { intervalMs: 20 }));
    log.info({ requestId: 'r1' }, 'request');
    expect(read()).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = JSON.parse(read()) as { requestId: string; msg: string; name: string };
    expect(line).toMatchObject({ requestId: 'r1', msg: 'request', name: 'api' });
  });

  it('keeps every line whole and in order under a burst, and flush(cb) waits for all of it', async () => {
    const { fd, read } = open('burst.log');
    const lines = new LogLines(fd, { minChars: 1000 });
    const log = pino({ name: 'api' }, lines);
    for (let i = 0; i < 5000; i++) log.info({ i, pad: 'x'.repeat(i % 50) }, 'request');
    await flushed(lines);
    const got = read()
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('drops and counts lines past its bound instead of growing', async () => {
    const { fd, read } = open('bounded.log');
    const lines = new LogLines(fd, { minChars: 1e9, maxChars: 100, intervalMs: 1e6 });
    for (let i = 0; i < 10; i++) lines.write(`${'x'.repeat(29)}\n`);
    expect(lines.dropped).toBe(7);
    await flushed(lines);
    expect(read()).toBe(`${'x'.repeat(29)}\n`.repeat(3));
  });

  it('writes what waits on flushSync (process exit)', () => {
    const { fd, read } = open('exit.log');
    const lines = new LogLines(fd, { minChars: 1e9, intervalMs: 1e6 });
    lines.write('a\n');
    lines.write('b\n');
    lines.flushSync();
    expect(read()).toBe('a\nb\n');
  });

  it('calls a flush back although the descriptor fails, and keeps accepting lines', async () => {
    open('read-only.log');
    const fd = fs.openSync(path.join(dir, 'read-only.log'), 'r'); // writes fail with EBADF
    files.push(fd);
    const lines = new LogLines(fd, { minChars: 1e9, intervalMs: 1e6 });
    lines.write('lost\n');
    await flushed(lines);
    lines.write('next\n');
    expect(lines.dropped).toBe(0);
  });
});
