import { describe, expect, it } from 'vitest';
import { createProgress } from './progress';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 80,
    write: (s: string) => (chunks.push(s), true),
  } as unknown as NodeJS.WriteStream;
  return { stream, chunks };
}

describe('createProgress', () => {
  it('prints a plain line at each 10% step when not a TTY', () => {
    const { stream, chunks } = fakeStream(false);
    const p = createProgress('evaluate', stream);
    for (let i = 0; i <= 100; i++) p.update(i, 100, i < 50 ? 'ridge' : 'forest');
    p.finish();
    expect(chunks.every((c) => !c.includes('\r'))).toBe(true);
    expect(chunks[0]).toBe('evaluate: 0% ridge\n');
    expect(chunks).toContain('evaluate: 50% forest\n');
    expect(chunks.at(-2)).toBe('evaluate: 100% forest\n');
    expect(chunks.at(-1)).toBe('evaluate: done\n');
    expect(chunks.length).toBe(12); // 0%..100% in 11 steps + done
  });

  it('redraws one line with a bar on a TTY and ends it with a newline', () => {
    const { stream, chunks } = fakeStream(true);
    const p = createProgress('evaluate', stream);
    p.update(0, 4, 'ridge');
    p.update(4, 4, 'done');
    p.finish();
    expect(chunks[0]).toMatch(/^\revaluate \[-{28}\] {3}0% ridge/);
    expect(chunks[1]).toMatch(/^\revaluate \[#{28}\] 100% done/);
    expect(chunks.at(-1)).toBe('\n');
  });
});
