import { describe, expect, it } from 'vitest';
import { MlflowInvalidParameterError } from './errors';
import {
  checkAlias,
  checkKey,
  metricValueToNumber,
  quoteFilterValue,
  toWireDouble,
} from './validation';
import { parseServerVersion, unsupportedReason } from './version';

describe('checkKey', () => {
  it.each([
    'rmse',
    'fold/1/rmse',
    'holdout_mae',
    'a.b-c d:e',
    'mlflow.source.git.commit',
    'température',
  ])('accepts %s', (key) => {
    expect(() => checkKey(key, 'metric')).not.toThrow();
  });

  it.each(['', 'a*b', 'a,b', '/lead', 'trail/', 'a//b', '..', 'a/../b', './a', 'k'.repeat(251)])(
    'refuses %j',
    (key) => {
      expect(() => checkKey(key, 'metric')).toThrow(MlflowInvalidParameterError);
    },
  );
});

describe('checkAlias', () => {
  it('accepts champion-style names and refuses reserved or malformed ones', () => {
    expect(() => checkAlias('production')).not.toThrow();
    expect(() => checkAlias('champion_2-b')).not.toThrow();
    for (const bad of ['latest', 'LATEST', 'v1', 'V12', '', 'has space', 'a/b'])
      expect(() => checkAlias(bad)).toThrow(MlflowInvalidParameterError);
  });
});

describe('doubles', () => {
  it('round-trips NaN and infinities through their wire strings', () => {
    for (const v of [NaN, Infinity, -Infinity, 0, -1.5])
      expect(metricValueToNumber(toWireDouble(v))).toBe(v);
    expect(JSON.stringify({ v: toWireDouble(NaN) })).toBe('{"v":"NaN"}');
  });
});

describe('quoteFilterValue', () => {
  it('quotes with single quotes, double quotes when needed, and refuses both', () => {
    expect(quoteFilterValue('abc')).toBe("'abc'");
    expect(quoteFilterValue("it's")).toBe('"it\'s"');
    expect(() => quoteFilterValue(`"it's"`)).toThrow(MlflowInvalidParameterError);
  });
});

describe('server versions', () => {
  it('parses release, rc and dev versions', () => {
    expect(parseServerVersion('3.17.2\n')).toEqual({
      raw: '3.17.2',
      major: 3,
      minor: 17,
      patch: 2,
    });
    expect(parseServerVersion('3.18.0rc1')).toMatchObject({ major: 3, minor: 18, patch: 0 });
    expect(parseServerVersion('3.2')).toMatchObject({ major: 3, minor: 2, patch: 0 });
    expect(parseServerVersion('<html>')).toBeUndefined();
  });

  it('supports major 3 only', () => {
    expect(unsupportedReason(parseServerVersion('3.0.0')!)).toBeUndefined();
    expect(unsupportedReason(parseServerVersion('3.17.2')!)).toBeUndefined();
    expect(unsupportedReason(parseServerVersion('2.22.0')!)).toMatch(/not supported/);
    expect(unsupportedReason(parseServerVersion('4.0.0')!)).toMatch(/not supported/);
  });
});
