import { describe, expect, it } from 'vitest';
import { HIST_STRIDE, HistKernel, referenceHistogram } from './hist-kernel';
import { mulberry32 } from './tree-random';

function setup(
  rows: number,
  cols: number,
  seed: number,
): { kernel: HistKernel; codes: Uint8Array; grad: Float64Array } {
  const rng = mulberry32(seed);
  const codes = Uint8Array.from({ length: rows * cols }, () => Math.floor(rng() * 256));
  const grad = Float64Array.from({ length: rows }, () => rng() * 10 - 5);
  const kernel = new HistKernel(codes, rows, cols);
  kernel.grad.set(grad);
  return { kernel, codes, grad };
}

describe('HistKernel', () => {
  it('builds the same histogram, bit for bit, as the plain TypeScript loop (4-feature passes and the remainder)', () => {
    for (const cols of [1, 4, 7]) {
      const rows = 1000;
      const { kernel, codes, grad } = setup(rows, cols, cols);
      const part = kernel.buffers[1];
      // An increasing subset of the rows, as a node holds them.
      let n = 0;
      for (let r = 0; r < rows; r++) if (r % 3 !== 1) part[n++] = r;
      kernel.histogram(1, 5, n - 5);
      expect(Array.from(kernel.scratch)).toEqual(
        Array.from(referenceHistogram(codes, rows, cols, grad, part, 5, n - 5)),
      );
      expect(kernel.scratch.length).toBe(cols * HIST_STRIDE);
    }
  });

  it('zeroes the histogram before each build', () => {
    const { kernel, codes, grad } = setup(50, 2, 3);
    for (let i = 0; i < 50; i++) kernel.buffers[0][i] = i;
    kernel.histogram(0, 0, 50);
    kernel.histogram(0, 10, 20);
    expect(Array.from(kernel.scratch)).toEqual(
      Array.from(referenceHistogram(codes, 50, 2, grad, kernel.buffers[0], 10, 20)),
    );
  });

  it('partitions a segment stably into the other buffer, code <= bin first', () => {
    const { kernel, codes } = setup(200, 3, 7);
    const src = kernel.buffers[0];
    for (let i = 0; i < 200; i++) src[i] = i;
    const feature = 2;
    const bin = 100;
    const seg = Array.from(src.subarray(20, 180));
    const left = seg.filter((r) => codes[feature * 200 + r]! <= bin);
    const right = seg.filter((r) => codes[feature * 200 + r]! > bin);
    kernel.partition(0, feature, 20, 180, 20 + left.length, bin);
    expect(Array.from(kernel.buffers[1].subarray(20, 180))).toEqual([...left, ...right]);
  });
});
