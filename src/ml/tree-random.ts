/**
 * Seeded pseudo-random numbers for the tree models: mulberry32, a 32-bit generator that is
 * small, fast and reproducible across platforms (Math.random is neither seeded nor stable).
 */

/** A generator of floats in [0, 1). */
export type Rng = () => number;

/**
 * Returns a mulberry32 generator seeded from `seed`.
 * @throws RangeError if `seed` is not a safe integer.
 */
export function mulberry32(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  // Fold the high 21 bits in so that seeds differing only above 2^32 still differ.
  let a = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b1);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A new 32-bit seed drawn from `rng`, for a child generator (one per tree). */
export function childSeed(rng: Rng): number {
  return Math.floor(rng() * 4294967296);
}
