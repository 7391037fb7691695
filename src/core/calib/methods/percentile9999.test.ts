import { describe, expect, it } from 'vitest';
import { calibrateTensor } from '../calibrate';
import { TensorStatisticsAccumulator } from '../TensorStatistics';
import { fullObservation } from '../testSupport';
import { interpolatedExtreme, percentileAt } from './percentile9999';

describe('percentile9999 (TPU-MLIR)', () => {
  it('p grows with the topological position: 99.99 + i * (99.999999 - 99.99) / n', () => {
    expect(percentileAt(0, 10)).toBe(99.99);
    expect(percentileAt(5, 10)).toBeCloseTo(99.9949995, 10);
    expect(percentileAt(10, 10)).toBeCloseTo(99.999999, 10);
  });

  it('interpolates between the k-th and (k-1)-th extreme with TPU-MLIR\'s ratio (known array)', () => {
    // values 1..5, p = 60: k = int(5 * 0.4) + 1 = 3; p/100 * (5 - 1) = 2.4 -> ratio 0.4
    // v_max = 3rd largest + 0.4 * (2nd largest - 3rd largest) = 3 + 0.4 * (4 - 3) = 3.4
    // v_min = 3rd smallest + 0.4 * (2nd smallest - 3rd smallest) = 3 + 0.4 * (2 - 3) = 2.6
    expect(interpolatedExtreme(new Float64Array([5, 4, 3, 2, 1]), 5, 60)).toBeCloseTo(3.4, 12);
    expect(interpolatedExtreme(new Float64Array([1, 2, 3, 4, 5]), 5, 60)).toBeCloseTo(2.6, 12);
  });

  it('k = 1 takes the extreme itself', () => {
    // M = 100 values, p = 99.99: k = int(100 * 1e-4) + 1 = 1
    expect(interpolatedExtreme(new Float64Array([7, 6]), 100, 99.99)).toBe(7);
  });

  it('threshold max(|v_max|, |v_min|) over the stream, computed on the sampled values', () => {
    // 2 samples x 15000 values: values j / 1000 for j = 0..29999 and one -50 outlier.
    // M = 30000 (N * size counts sampled values); i = 0 -> p = 99.99
    // k = int(30000 * 1.0000000000010001e-4) + 1 = int(3.00000000000003) + 1 = 4
    // p/100 * 29999 = 0.9998999999999999 * 29999 = 29996.0001 -> ratio 0.0001 (TPU-MLIR applies it
    // between the 4th and 3rd extreme):
    // v_max = 29.996 + 0.0001 * (29.997 - 29.996) = 29.9960001
    // v_min: smallest first -50, 0, 0.001, 0.002 -> 4th smallest 0.002 + 0.0001 * (0.001 - 0.002) = 0.0019999
    // threshold = max(29.9960001, 0.0019999) = 29.9960001; min/max: observed [-50, 29.999] clipped
    const all = Float32Array.from({ length: 30000 }, (_, j) => j / 1000);
    all[12345] = -50;
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 2 });
    acc.add(fullObservation(all.slice(0, 15000)));
    acc.add(fullObservation(all.slice(15000)));
    const entry = calibrateTensor('percentile9999', acc.result(), { bits: 8, position: 0, positionCount: 7, isGraphInput: false, histogramBins: 2048 });
    const ratio = 0.9998999999999999 * 29999 - 29996;
    expect(entry.threshold).toBeCloseTo(Math.fround(29.996) + ratio * (Math.fround(29.997) - Math.fround(29.996)), 9);
    expect(entry.threshold).toBeCloseTo(29.9960001, 6);
    expect(entry.min).toBeCloseTo(-entry.threshold, 12);
    expect(entry.max).toBeCloseTo(entry.threshold, 12);
  });
});
