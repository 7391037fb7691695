import { describe, expect, it } from 'vitest';
import { changedTensors, everyTensorAt, sameOverride, sameOverrides } from './overrideList';

describe('override lists', () => {
  it('two lists are the same when they put the same overrides in force, in any order', () => {
    expect(sameOverrides([['a', { method: 'kl' }], ['b', { threshold: 2 }]], [['b', { threshold: 2 }], ['a', { method: 'kl' }]])).toBe(true);
    expect(sameOverrides([['a', { method: 'kl' }]], [['a', { method: 'max' }]])).toBe(false);
    expect(sameOverrides([['a', { threshold: 2 }]], [['a', { threshold: 2.5 }]])).toBe(false);
    expect(sameOverrides([['a', { method: 'kl' }]], [])).toBe(false);
    expect(sameOverride({ method: 'kl' }, { threshold: 1 })).toBe(false);
    expect(sameOverride(undefined, undefined)).toBe(true);
  });

  it('changedTensors names every tensor set, changed or removed, once', () => {
    expect(changedTensors([['a', { method: 'kl' }], ['b', { threshold: 2 }], ['c', { method: 'max' }]], [['a', { method: 'kl' }], ['b', { threshold: 3 }], ['d', { method: 'mse' }]]))
      .toEqual(['b', 'c', 'd']);
  });

  it('everyTensorAt sets one method on every tensor given', () => {
    expect(everyTensorAt(['a', 'b'], 'mse')).toEqual([['a', { method: 'mse' }], ['b', { method: 'mse' }]]);
  });
});
