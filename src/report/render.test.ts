import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../ml/experiment';
import { syntheticSeries } from '../ml/testing';
import { svgToPng, writeExperimentPlots } from './render';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('plot rendering', () => {
  it('rasterises an SVG to a PNG of the requested width', () => {
    const png = svgToPng(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/><text x="2" y="15">Hi</text></svg>',
      80,
    );
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    expect(png.readUInt32BE(16)).toBe(80); // IHDR width
    expect(png.readUInt32BE(20)).toBe(40); // IHDR height
  });

  it('writes the four experiment plots as SVG and PNG files', async () => {
    const { report } = runExperiment(syntheticSeries(90), {
      families: ['ridge'],
      budget: 2,
      folds: 3,
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'plots-'));
    try {
      const files = await writeExperimentPlots(report, dir);
      expect(files.map((f) => path.basename(f)).sort()).toEqual(
        ['cv-scores', 'feature-importance', 'predicted-vs-actual', 'residuals-vs-temperature']
          .flatMap((n) => [`${n}.png`, `${n}.svg`])
          .sort(),
      );
      const svg = await readFile(path.join(dir, 'cv-scores.svg'), 'utf8');
      expect(svg).toContain('naive: seasonal (12)');
      const png = await readFile(path.join(dir, 'predicted-vs-actual.png'));
      expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
