import { describe, expect, it } from 'vitest';
import {
  barChartSvg,
  escapeXml,
  niceTicks,
  predictedVsActualSvg,
  residualsVsTemperatureSvg,
} from './plots';

describe('plots', () => {
  it('chooses round tick values', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(-3.2, 7.9, 5)).toEqual([-2, 0, 2, 4, 6]);
  });

  it('escapes labels so a column name cannot break the SVG', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
    const svg = barChartSvg([{ label: '<script>', value: 1 }], 't', 'v');
    expect(svg).not.toContain('<script>');
  });

  it('draws the interval band, both lines and a legend', () => {
    const pts = [0, 1, 2, 3].map((i) => ({
      date: `2020-0${i + 1}-01`,
      actual: 10 + i,
      prediction: 11 + i,
      lower: 8 + i,
      upper: 14 + i,
    }));
    const svg = predictedVsActualSvg(pts);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polygon /g)).toHaveLength(1);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('2020-01-01');
  });

  it('places one point per residual', () => {
    const rows = [5, 15, 25].map((t) => ({
      date: '2020-01-01',
      actual: t,
      prediction: t + 1,
      temperature: t,
      source: 'cv',
    }));
    expect(residualsVsTemperatureSvg(rows).match(/<circle /g)).toHaveLength(3);
  });
});
