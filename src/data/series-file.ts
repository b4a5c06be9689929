import fs from 'node:fs';
import type { Series } from '../ml';

interface SeriesJson {
  dates: string[];
  target: number[];
  temperature: number[];
  covariates: Record<string, number[]>;
  frequency: Series['frequency'];
}

export function seriesToJson(s: Series): SeriesJson {
  const covariates: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(s.covariates)) covariates[k] = Array.from(v);
  return {
    dates: s.dates,
    target: Array.from(s.target),
    temperature: Array.from(s.temperature),
    covariates,
    frequency: s.frequency,
  };
}

export function seriesFromJson(j: SeriesJson): Series {
  const covariates: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(j.covariates)) covariates[k] = Float64Array.from(v);
  return {
    dates: j.dates,
    target: Float64Array.from(j.target),
    temperature: Float64Array.from(j.temperature),
    covariates,
    frequency: j.frequency,
  };
}

export function writeSeries(file: string, s: Series): void {
  fs.writeFileSync(file, `${JSON.stringify(seriesToJson(s))}\n`);
}

export function readSeries(file: string): Series {
  return seriesFromJson(JSON.parse(fs.readFileSync(file, 'utf8')) as SeriesJson);
}
