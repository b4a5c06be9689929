import { randomFillSync } from 'node:crypto';

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn 4 KB at a time (as node:crypto's randomUUID does), 10 per id. */
const entropy = Buffer.alloc(4096);
let used = entropy.length;

/**
 * A new prediction id: a UUIDv7 (RFC 9562), 48 bits of Unix milliseconds then 74 random bits.
 * Ids made later sort later, so the prediction log's primary key grows at its right edge
 * instead of touching a random page of the index for every logged prediction.
 */
export function predictionId(now = Date.now()): string {
  if (used + 10 > entropy.length) {
    randomFillSync(entropy);
    used = 0;
  }
  const r = entropy;
  const o = used;
  used += 10;
  const high = Math.floor(now / 65_536); // the top 32 of the 48 bits
  const low = now % 65_536;
  return (
    hex[high >>> 24]! +
    hex[(high >>> 16) & 255]! +
    hex[(high >>> 8) & 255]! +
    hex[high & 255]! +
    '-' +
    hex[low >>> 8]! +
    hex[low & 255]! +
    '-' +
    hex[0x70 | (r[o]! & 0x0f)]! +
    hex[r[o + 1]!]! +
    '-' +
    hex[0x80 | (r[o + 2]! & 0x3f)]! +
    hex[r[o + 3]!]! +
    '-' +
    hex[r[o + 4]!]! +
    hex[r[o + 5]!]! +
    hex[r[o + 6]!]! +
    hex[r[o + 7]!]! +
    hex[r[o + 8]!]! +
    hex[r[o + 9]!]!
  );
}
