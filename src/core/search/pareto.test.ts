import { describe, expect, it } from 'vitest';
import { paretoFront } from './pareto';

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
