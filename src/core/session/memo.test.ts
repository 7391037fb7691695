import { describe, expect, it } from 'vitest';
import { derived } from './memo';

describe('derived', () => {
  it('computes once per distinct set of inputs, compared by identity', () => {
    const sum = derived((a: { n: number }, b: number) => a.n + b);
    const a = { n: 1 };
    expect(sum(a, 2)).toBe(3);
    expect(sum(a, 2)).toBe(3);
    expect(sum.builds).toBe(1);
    expect(sum({ n: 1 }, 2)).toBe(3); // an equal but different object is a new input
    expect(sum.builds).toBe(2);
  });

  it('releases the value it replaces, and on clear', () => {
    const released: number[] = [];
    const value = derived((n: number) => n * 10, (old) => released.push(old));
    value(1);
    value(2);
    expect(released).toEqual([10]);
    value.clear();
    expect(released).toEqual([10, 20]);
    value(2);
    expect(value.builds).toBe(3);
  });
});
