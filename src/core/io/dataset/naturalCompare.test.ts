import { describe, expect, it } from 'vitest';
import { naturalCompare } from './naturalCompare';

describe('naturalCompare', () => {
  it('orders digit runs by value: img2 < img10', () => {
    expect(['img10.png', 'img2.png', 'img1.png', 'img0010b.png', 'img9.png'].sort(naturalCompare)).toEqual(['img1.png', 'img2.png', 'img9.png', 'img10.png', 'img0010b.png']);
  });

  it('puts a shorter name first when one is the start of the other, and leading zeros after', () => {
    expect(['a1', 'a', 'a01', 'a1b', 'b'].sort(naturalCompare)).toEqual(['a', 'a1', 'a01', 'a1b', 'b']);
  });

  it('compares other characters by code unit, so the order is the same everywhere', () => {
    expect(['b.npy', 'B.npy', 'a.npy', '_x.npy'].sort(naturalCompare)).toEqual(['B.npy', '_x.npy', 'a.npy', 'b.npy']);
    expect(naturalCompare('same', 'same')).toBe(0);
  });

  it('handles numbers too long for a double', () => {
    expect(['x123456789012345678902', 'x123456789012345678901'].sort(naturalCompare)).toEqual(['x123456789012345678901', 'x123456789012345678902']);
  });
});
