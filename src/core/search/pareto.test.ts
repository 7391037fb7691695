import { describe, expect, it } from 'vitest';
import { configurationRows, paretoFront } from './pareto';
import type { VisitedConfiguration } from './SearchSession';

const p = (id: number, weightBytes: number, outputCos: number) => ({ id, weightBytes, outputCos });

describe('paretoFront', () => {
  it('keeps the configurations no other beats on both bytes and cosine, smallest first', () => {
    const points = [
      p(1, 100, 0.9),
      p(2, 200, 0.95),
      p(3, 150, 0.89), // larger and worse than 1
      p(4, 100, 0.92), // as small as 1 and more accurate: 1 is off the front
      p(5, 300, 0.95), // as accurate as 2 but larger
      p(6, 400, 0.99),
      p(7, 350, 0.94), // larger than 2 and worse
    ];
    expect([...paretoFront(points)]).toEqual([4, 2, 6]);
  });

  it('a tie in bytes keeps only the more accurate, whatever the input order', () => {
    expect([...paretoFront([p(1, 100, 0.95), p(2, 100, 0.97)])]).toEqual([2]);
    expect([...paretoFront([p(2, 100, 0.97), p(1, 100, 0.95)])]).toEqual([2]);
  });

  it('equal cosine at more bytes is not on the front; more cosine at more bytes is', () => {
    expect([...paretoFront([p(1, 200, 0.9), p(2, 100, 0.9)])]).toEqual([2]);
    expect([...paretoFront([p(1, 200, 0.91), p(2, 100, 0.9)])]).toEqual([2, 1]);
  });

  it('the smallest configuration is always on it, the most accurate too; nothing in, nothing out', () => {
    const points = [p(1, 50, 0.5), p(2, 400, 0.999), p(3, 300, 0.98), p(4, 200, 0.97)];
    expect([...paretoFront(points)]).toEqual([1, 4, 3, 2]);
    expect(paretoFront([]).size).toBe(0);
  });

  it('does not reorder its input', () => {
    const points = [p(2, 200, 0.95), p(1, 100, 0.9)];
    paretoFront(points);
    expect(points.map((q) => q.id)).toEqual([2, 1]);
  });
});

const configuration = (id: number, weightBytes: number, outputCos: number, layers: [string, 'FP32' | 'FP16' | 'INT16' | 'INT8'][] = [], defaultPrecision: 'INT8' | 'FP32' = 'INT8'): VisitedConfiguration => ({
  id, search: 'sensitive', label: `c${id}`, qtable: { defaultPrecision, layers }, score: outputCos, outputCos, weightBytes,
});

/** Issue #11: "7 of 10 points sit at about 2.2 MB; clicking one applies another". */
describe('configurationRows', () => {
  it('each row carries its own configuration, whatever order the list puts it in: smallest first, then the more accurate, then by label in natural order (issue #13), then the first scored', () => {
    const points = [
      configuration(7, 2_200_300, 0.97, [['a', 'FP32']]),
      configuration(3, 4_500_000, 0.999),
      configuration(9, 2_200_300, 0.98, [['b', 'FP32']]),
      configuration(4, 2_200_100, 0.95),
      configuration(5, 2_200_300, 0.98, [['c', 'INT16']]),
    ];
    const rows = configurationRows(points, ['a', 'b', 'c']);
    expect(rows.map((r) => r.configuration.id)).toEqual([4, 5, 9, 7, 3]);
    // the mapping is by the configuration itself, never by position: each row's QTable is its point's
    for (const row of rows) expect(row.configuration).toBe(points.find((p) => p.id === row.configuration.id));
    expect(rows.map((r) => [r.floatLayers, r.int16Layers])).toEqual([[0, 0], [0, 1], [1, 0], [1, 0], [0, 0]]);
    expect(rows.filter((r) => r.onFront).map((r) => r.configuration.id)).toEqual([4, 9, 3]);
    expect(points.map((p) => p.id)).toEqual([7, 3, 9, 4, 5]); // not reordered
  });

  it("counts the layers a QTable's default leaves float or INT16 among the model's layers", () => {
    const [row] = configurationRows([configuration(1, 10, 0.9, [['a', 'INT8']], 'FP32')], ['a', 'b', 'c']);
    expect([row.floatLayers, row.int16Layers]).toEqual([2, 0]);
  });
});
