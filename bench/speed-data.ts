/**
 * The benchmark dataset: Friedman #1 with 20 features (5 informative, 15 noise), uniform
 * inputs, unit Gaussian noise, generated from a seed so that every run and every peer sees the
 * same numbers. Written once per size to .bench/ as float64 little-endian:
 * X_train, y_train, X_test, y_test.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { matrix } from '../src/ml/matrix';
import type { Matrix } from '../src/ml/matrix';
import { mulberry32 } from '../src/ml/tree-random';

export const COLS = 20;
export const TEST_ROWS = 10_000;

export interface BenchData {
  readonly X: Matrix;
  readonly y: Float64Array;
  readonly XTest: Matrix;
  readonly yTest: Float64Array;
}

/** Friedman #1: y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + N(0, 1). */
export function friedman20(rows: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = mulberry32(seed);
  const X = new Float64Array(rows * COLS);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < COLS; j++) X[i * COLS + j] = rng();
    const x = X.subarray(i * COLS, i * COLS + 5);
    // Box-Muller from two uniforms in (0, 1].
    const noise = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    y[i] =
      10 * Math.sin(Math.PI * x[0]! * x[1]!) +
      20 * (x[2]! - 0.5) ** 2 +
      10 * x[3]! +
      5 * x[4]! +
      noise;
  }
  return { X: matrix(rows, COLS, X), y };
}

/** Path of the binary file for `rows` training rows. */
export function dataPath(dir: string, rows: number): string {
  return join(dir, `friedman20-${rows}.bin`);
}

/** Writes the dataset for `rows` training rows (+ TEST_ROWS) if it is not there yet. */
export function ensureData(dir: string, rows: number): string {
  const path = dataPath(dir, rows);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const train = friedman20(rows, 1);
  const test = friedman20(TEST_ROWS, 2);
  const all = new Float64Array(rows * COLS + rows + TEST_ROWS * COLS + TEST_ROWS);
  let o = 0;
  for (const part of [train.X.data, train.y, test.X.data, test.y]) {
    all.set(part, o);
    o += part.length;
  }
  writeFileSync(path, new Uint8Array(all.buffer));
  return path;
}

/** Reads a file written by ensureData into one buffer (views, no copies: RSS stays honest). */
export function readData(path: string, rows: number): BenchData {
  const bytes = statSync(path).size;
  const all: Float64Array<ArrayBuffer> = new Float64Array(bytes / 8);
  const fd = openSync(path, 'r');
  try {
    const view = new Uint8Array(all.buffer);
    let off = 0;
    while (off < bytes) off += readSync(fd, view, off, Math.min(1 << 26, bytes - off), off);
  } finally {
    closeSync(fd);
  }
  let o = 0;
  const take = (len: number): Float64Array<ArrayBuffer> => all.subarray(o, (o += len));
  const X = matrix(rows, COLS, take(rows * COLS));
  const y = take(rows);
  const XTest = matrix(TEST_ROWS, COLS, take(TEST_ROWS * COLS));
  const yTest = take(TEST_ROWS);
  return { X, y, XTest, yTest };
}
