import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seededRandom';
import { samplePositions } from './statisticsPass';

/** Floyd's algorithm as the statistics pass first wrote it: a Set, then Array.sort with a comparator. */
function reference(size: number, count: number, seed: number): number[] {
  if (count >= size) return Array.from({ length: size }, (_, i) => i);
  const next = seededRandom(seed);
  const chosen = new Set<number>();
  for (let j = size - count; j < size; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

describe('samplePositions', () => {
  it('draws the same positions as the Set-based reference (bitmap path and, past 2^26 elements, Set path)', () => {
    for (const [size, count, seed] of [[10, 3, 5], [100, 99, 3], [5000, 4096, 7], [409600, 4096, 1], [1 << 26, 4096, 2], [(1 << 26) + 1, 4096, 11], [1e8, 5000, 4]]) {
      expect(samplePositions(size, count, seed), `${size} ${count}`).toEqual(reference(size, count, seed));
    }
  });

  it('every element when asked for as many or more', () => {
    expect(samplePositions(4, 4, 1)).toEqual([0, 1, 2, 3]);
    expect(samplePositions(3, 10, 1)).toEqual([0, 1, 2]);
  });
});
