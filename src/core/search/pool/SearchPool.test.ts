import { describe, expect, it } from 'vitest';
import { chunkUnits, splitSamples, type UnitCost } from './SearchPool';
import type { QuantUnit } from '../scoring/units';

const unit = (i: number): QuantUnit => ({ head: `u${i}`, layers: [`u${i}`], position: i });
const costed = (...costs: number[]): UnitCost[] => costs.map((cost, i) => ({ unit: unit(i), cost }));
const heads = (chunks: readonly (readonly QuantUnit[])[]) => chunks.map((c) => c.map((u) => u.head));

describe('chunkUnits', () => {
  it('costs 5,1,1,1,1,1 in 2 chunks: [u0] and [u1..u5], cost 5 each', () => {
    expect(heads(chunkUnits(costed(5, 1, 1, 1, 1, 1), 2))).toEqual([['u0'], ['u1', 'u2', 'u3', 'u4', 'u5']]);
  });

  it('cuts where the next unit would pass the target (total/count) by more than 5%, then puts the biggest chunk first', () => {
    // target 5: [u0 u1] = 3 (adding u2 makes 6), [u2] = 3 (adding u3 makes 7), [u3] = 4
    expect(heads(chunkUnits(costed(1, 2, 3, 4), 2))).toEqual([['u3'], ['u0', 'u1'], ['u2']]);
    // within 5% of the target is still one chunk: target 10, 10.4 <= 10.5
    expect(heads(chunkUnits(costed(5, 5.4, 9.6), 2))).toEqual([['u0', 'u1'], ['u2']]);
    expect(heads(chunkUnits(costed(5, 5.6, 9.4), 2))).toEqual([['u2'], ['u1'], ['u0']]); // 10.6 > 10.5: cut
  });

  it('a unit costlier than the target is a chunk of its own', () => {
    expect(heads(chunkUnits(costed(1, 1, 20, 1, 1), 4))).toEqual([['u2'], ['u0', 'u1'], ['u3', 'u4']]);
  });

  it('more chunks asked for than units: one unit each, biggest first', () => {
    expect(heads(chunkUnits(costed(1, 3, 2), 10))).toEqual([['u1'], ['u2'], ['u0']]);
  });

  it('one chunk (or a count below 1) holds every unit in order; no units, no chunks', () => {
    expect(heads(chunkUnits(costed(1, 2, 3), 1))).toEqual([['u0', 'u1', 'u2']]);
    expect(heads(chunkUnits(costed(1, 2, 3), 0))).toEqual([['u0', 'u1', 'u2']]);
    expect(chunkUnits([], 4)).toEqual([]);
  });

  it('every unit exactly once, each chunk consecutive, chunk costs never increasing, about `count` chunks of about equal cost', () => {
    const costs = Array.from({ length: 97 }, (_, i) => 1 + ((i * 7919) % 13));
    const units = costed(...costs);
    const total = costs.reduce((a, b) => a + b, 0);
    for (const count of [1, 2, 3, 6, 12, 24]) {
      const chunks = chunkUnits(units, count);
      const positions = chunks.flatMap((c) => c.map((u) => u.position));
      expect([...positions].sort((a, b) => a - b)).toEqual(costs.map((_, i) => i));
      for (const chunk of chunks) chunk.forEach((u, k) => k > 0 && expect(u.position).toBe(chunk[k - 1].position + 1));
      const chunkCosts = chunks.map((c) => c.reduce((s, u) => s + costs[u.position], 0));
      for (let k = 1; k < chunkCosts.length; k++) expect(chunkCosts[k]).toBeLessThanOrEqual(chunkCosts[k - 1]);
      // no chunk of several units passes the target by more than 5% (no unit here costs more than a
      // target), so there are at least count / 1.05 chunks; cutting early never makes twice as many
      for (const [k, c] of chunks.entries()) if (c.length > 1) expect(chunkCosts[k]).toBeLessThanOrEqual((total / count) * 1.05);
      expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(count / 1.05));
      expect(chunks.length).toBeLessThanOrEqual(2 * count);
    }
  });
});

describe('splitSamples', () => {
  it('10 samples in 3 parts: [0 1 2] [3 4 5] [6 7 8 9]', () => {
    expect(splitSamples(10, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
  });

  it('one part: every sample; n parts of n samples: one each', () => {
    expect(splitSamples(5, 1)).toEqual([[0, 1, 2, 3, 4]]);
    expect(splitSamples(4, 4)).toEqual([[0], [1], [2], [3]]);
  });

  it('more parts than samples: some parts are empty, every sample still once', () => {
    expect(splitSamples(2, 4)).toEqual([[], [0], [], [1]]);
    expect(splitSamples(0, 3)).toEqual([[], [], []]);
  });

  it('contiguous, covering 0..n-1 in order, sizes differing by at most one, for every n <= 30 and parts <= 8', () => {
    for (let n = 0; n <= 30; n++) {
      for (let parts = 1; parts <= 8; parts++) {
        const slices = splitSamples(n, parts);
        expect(slices).toHaveLength(parts);
        expect(slices.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
        const sizes = slices.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});
