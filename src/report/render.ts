import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { ExperimentReport } from '../ml/experiment';
import { experimentPlots } from '../ml/plots';

/**
 * Rasterises an SVG string to PNG bytes with resvg (no browser). Uses the system fonts
 * (DejaVu Sans is preferred by the plots); `width` scales the output, default the SVG's own size.
 */
export function svgToPng(svg: string, width?: number): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
    ...(width ? { fitTo: { mode: 'width' as const, value: width } } : {}),
  });
  return resvg.render().asPng();
}

/**
 * Writes the experiment's plots to `dir` as `<name>.svg` and `<name>.png` (creates the folder).
 * Returns the written paths. Throws the file system's error when the folder is not writable.
 */
export async function writeExperimentPlots(
  report: ExperimentReport,
  dir: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, svg] of Object.entries(experimentPlots(report))) {
    const svgPath = path.join(dir, `${name}.svg`);
    const pngPath = path.join(dir, `${name}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, svgToPng(svg));
    written.push(svgPath, pngPath);
  }
  return written;
}
