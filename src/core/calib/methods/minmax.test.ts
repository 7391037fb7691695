import { describe, expect, it } from 'vitest';
import { calibrateTensor } from '../calibrate';
import { TensorStatisticsAccumulator, type TensorStatistics } from '../TensorStatistics';
import type { MethodContext } from './Calibrator';
import { nthPercentile } from './minmaxPercentile';
import { movingAverage } from './movingAverage';

const CONTEXT: MethodContext = { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 };

/** Statistics of samples given by their extremes only (one element at each end). */
function fromExtremes(mins: readonly number[], maxs: readonly number[]): TensorStatistics {
  const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: mins.length });
  mins.forEach((min, s) => acc.add({ min, max: maxs[s], count: 2, values: new Float32Array([min, maxs[s]]) }));
  return acc.result();
}

describe('max', () => {
  it('threshold max(|min|, |max|) over all samples; min/max the observed range', () => {
    // samples [-1, 2] and [-3, 0.5]: global [-3, 2], threshold 3
    expect(calibrateTensor('max', fromExtremes([-1, -3], [2, 0.5]), CONTEXT)).toEqual({ threshold: 3, min: -3, max: 2, source: 'max' });
  });
});

describe('ONE minmax_percentile (record-minmax default)', () => {
  it('getNthPercentile interpolates at floor((n - 1) p / 100) as ONE does', () => {
    // sorted [1, 2, 4, 8, 16]: p = 99 -> index floor(4 * 0.99) = 3, fraction 0.96 -> 8 + 0.96 * 8 = 15.68
    expect(nthPercentile(new Float64Array([16, 1, 8, 2, 4]), 99)).toBeCloseTo(15.68, 12);
    // p = 1 -> index floor(0.04) = 0, fraction 0.04 -> 1 + 0.04 * 1 = 1.04
    expect(nthPercentile(new Float64Array([16, 1, 8, 2, 4]), 1)).toBeCloseTo(1.04, 12);
    expect(nthPercentile(new Float64Array([5]), 99)).toBe(5);
    expect(nthPercentile(new Float64Array([3, 1]), 0)).toBe(1);
    expect(nthPercentile(new Float64Array([3, 1]), 100)).toBe(3);
  });

  it('throws ONE\'s messages on a bad percentile or no values', () => {
    expect(() => nthPercentile(new Float64Array([1]), 101)).toThrow(new Error('Percentile must be ranged from 0 to 100'));
    expect(() => nthPercentile(new Float64Array(0), 50)).toThrow(new Error('Percentile must take a non-empty vector as an argument'));
  });

  it('min = 1st percentile of per-sample mins, max = 99th percentile of per-sample maxes', () => {
    // 11 samples: mins -10, -1, -1, ..., -1 ; maxes 1, 1, ..., 1, 20
    // mins sorted [-10, -1 x10]: index floor(10 * 0.01) = 0, fraction 0.1 -> -10 + 0.1 * 9 = -9.1
    // maxes sorted [1 x10, 20]: index floor(10 * 0.99) = 9, fraction 0.9 -> 1 + 0.9 * 19 = 18.1
    const mins = [-10, ...Array(10).fill(-1)];
    const maxs = [...Array(10).fill(1), 20];
    const entry = calibrateTensor('minmax_percentile', fromExtremes(mins, maxs), CONTEXT);
    expect(entry.min).toBeCloseTo(-9.1, 12);
    expect(entry.max).toBeCloseTo(18.1, 12);
    expect(entry.threshold).toBeCloseTo(18.1, 12);
    expect(entry.source).toBe('minmax_percentile');
  });
});

describe('ONE moving_average', () => {
  it('starts from the first batch of 16, then avg = avg * 0.9 + batch extreme * 0.1', () => {
    // 40 samples = batches [0, 16), [16, 32), [32, 40)
    // maxes: batch extremes 3, 5, 10 -> 3, then 3 * 0.9 + 5 * 0.1 = 3.2, then 3.2 * 0.9 + 10 * 0.1 = 3.88
    // mins:  batch extremes -2, -6, -1 -> -2, then -2.4, then -2.4 * 0.9 - 0.1 = -2.26
    const maxs = Array.from({ length: 40 }, (_, i) => (i < 16 ? (i === 7 ? 3 : 1) : i < 32 ? (i === 20 ? 5 : 2) : i === 39 ? 10 : 0));
    const mins = Array.from({ length: 40 }, (_, i) => (i < 16 ? (i === 3 ? -2 : -1) : i < 32 ? (i === 31 ? -6 : -1) : -1));
    const entry = calibrateTensor('moving_average', fromExtremes(mins, maxs), CONTEXT);
    expect(entry.max).toBeCloseTo(3.88, 12);
    expect(entry.min).toBeCloseTo(-2.26, 12);
    expect(entry.threshold).toBeCloseTo(3.88, 12);
  });

  it('fewer than 16 samples: the extreme of the one batch', () => {
    expect(movingAverage(new Float64Array([1, 4, 2]), false)).toBe(4);
    expect(movingAverage(new Float64Array([1, 4, 2]), true)).toBe(1);
  });
});
