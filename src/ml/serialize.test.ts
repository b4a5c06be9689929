import { describe, expect, it } from 'vitest';
import { canonicalJson } from './serialize';

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined and writes typed arrays as arrays', () => {
    expect(
      canonicalJson({ b: 1, a: { d: [1, 2], c: Float64Array.from([0.5, 3]) }, u: undefined }),
    ).toBe('{"a":{"c":[0.5,3],"d":[1,2]},"b":1}');
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(() => canonicalJson({ x: NaN })).toThrow(RangeError);
    expect(() => canonicalJson([Infinity])).toThrow(RangeError);
  });
});
