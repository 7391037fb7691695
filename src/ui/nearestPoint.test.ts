import { describe, expect, it } from 'vitest';
import { nearestPoint } from './nearestPoint';

describe('nearestPoint', () => {
  it('designates the nearest point within the radius, none beyond it', () => {
    const points = [{ x: 10, y: 10 }, { x: 14, y: 10 }, { x: 40, y: 40 }];
    expect(nearestPoint(points, { x: 11, y: 10 }, 5)).toBe(0);
    expect(nearestPoint(points, { x: 13, y: 11 }, 5)).toBe(1);
    expect(nearestPoint(points, { x: 25, y: 25 }, 5)).toBe(-1);
    expect(nearestPoint([], { x: 0, y: 0 }, 5)).toBe(-1);
  });

  it('among points drawn on top of each other, the last drawn (the one the eye sees) wins', () => {
    const points = [{ x: 10, y: 10 }, { x: 10, y: 10 }, { x: 10, y: 10 }];
    expect(nearestPoint(points, { x: 10, y: 11 }, 5)).toBe(2);
  });

  it('a point drawn under a bigger neighbour is still the one under the pointer (no mark steals the click)', () => {
    // x pixel for 2,200,000 and 2,201,000 bytes at 1 px per 4 kB: the pointer sits on the first
    const points = [{ x: 200.0, y: 50 }, { x: 200.25, y: 53 }];
    expect(nearestPoint(points, { x: 200, y: 50 }, 9)).toBe(0);
    expect(nearestPoint(points, { x: 200.3, y: 53 }, 9)).toBe(1);
  });
});
