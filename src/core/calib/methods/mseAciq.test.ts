import { describe, expect, it } from 'vitest';
import { calibrateTensor } from '../calibrate';
import { TensorStatisticsAccumulator, type TensorStatistics } from '../TensorStatistics';
import { fullObservation } from '../testSupport';
import type { MethodContext } from './Calibrator';

const CONTEXT: MethodContext = { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 };

function stats(...samples: number[][]): TensorStatistics {
  const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: samples.length });
  for (const s of samples) acc.add(fullObservation(Float32Array.from(s)));
  return acc.result();
}

describe('mse (OCTAV, TPU-MLIR use_mse)', () => {
  it('the mean of per-sample thresholds, capped at absmax', () => {
    // sample 1 [1, 2, 3, 4] (u = 4): 4 / (1 + 3 * 4^-8 / 12) = 3.99998474
    // sample 2 [-1, 2, -3, 4] (u = 1): 4 / (1 + 3 * 4^-8 / 3) = 3.99993896
    // mean 3.99996185 < absmax 4
    const s = stats([1, 2, 3, 4], [-1, 2, -3, 4]);
    const expected = (4 / (1 + (3 * 4 ** -8) / 12) + 4 / (1 + (3 * 4 ** -8) / 3)) / 2;
    const entry = calibrateTensor('mse', s, CONTEXT);
    expect(entry.threshold).toBe(expected);
    expect(entry).toEqual({ threshold: expected, min: -3, max: expected, source: 'mse' });
  });

  it('graph inputs take absmax', () => {
    expect(calibrateTensor('mse', stats([1, 2, 3, 4]), { ...CONTEXT, isGraphInput: true }).threshold).toBe(4);
  });

  it('INT4 uses b = 4: c = 4^-4 / 12 for a non-negative tensor', () => {
    // [1, 2, 3, 4]: s0 = 2.5, s1 = 7 / (2c + 2), s2 = 4 / (3c + 1) with c = 1/3072, then s2 again
    const c = 4 ** -4 / 12;
    expect(calibrateTensor('mse', stats([1, 2, 3, 4]), { ...CONTEXT, bits: 4 }).threshold).toBe(4 / (3 * c + 1));
  });
});

describe('ACIQ (TPU-MLIR use_aciq_gauss, use_aciq_laplace)', () => {
  it('Gauss: per-sample alpha * (max - min) * 0.175 * (1 + sqrt(pi ln 4)) / sqrt(2 ln N), averaged, capped', () => {
    // 0.175 * (1 + sqrt(pi ln 4)) = 0.175 * 3.08690493 = 0.54020836
    // sample A: [-0.5, 0.5], N = 10^6 elements: sqrt(2 ln 10^6) = 5.25652177
    //   8 bit: 3.92403337 * 1 * 0.54020836 / 5.25652177 = 0.40327
    // sample B: [-1, 1], N = 10^6: twice that, 0.80654; mean 0.60490 (< absmax 1)
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 2 });
    acc.add({ min: -0.5, max: 0.5, count: 1e6, values: new Float32Array([-0.5, 0.1, 0.5]) });
    acc.add({ min: -1, max: 1, count: 1e6, values: new Float32Array([-1, 0.2, 1]) });
    const one = (3.92403337 * 0.175 * (1 + Math.sqrt(Math.PI * Math.log(4)))) / Math.sqrt(2 * Math.log(1e6));
    const entry = calibrateTensor('aciq_gauss', acc.result(), CONTEXT);
    expect(one).toBeCloseTo(0.40327, 5);
    expect(entry.threshold).toBeCloseTo((one + 2 * one) / 2, 12);
    // 4 bit: alpha 2.55913642 instead of 3.92403337
    expect(calibrateTensor('aciq_gauss', acc.result(), { ...CONTEXT, bits: 4 }).threshold).toBeCloseTo(((one * 2.55913642) / 3.92403337) * 1.5, 12);
    // graph inputs: absmax; a tiny tensor (N = 4) is capped at absmax: 3.924 * 4 * 0.5402 / sqrt(2 ln 4) = 5.09 > 3
    expect(calibrateTensor('aciq_gauss', acc.result(), { ...CONTEXT, isGraphInput: true }).threshold).toBe(1);
    expect(calibrateTensor('aciq_gauss', stats([-1, 3, 0, 0]), CONTEXT).threshold).toBe(3);
  });

  it('Laplace: per-sample beta * mean|x - mean(x)|, averaged, capped at absmax', () => {
    // [0 x 99, 10]: mean 0.1, mean|x - 0.1| = (99 * 0.1 + 9.9) / 100 = 0.198
    // [0 x 99, 20]: mean 0.2, mean|x - 0.2| = (99 * 0.2 + 19.8) / 100 = 0.396; mean b = 0.297
    // 8 bit: 9.89675982 * 0.297 = 2.93933767; 4 bit: 5.02864014 * 0.297 = 1.49350612
    const a = [...Array(99).fill(0), 10];
    const b = [...Array(99).fill(0), 20];
    expect(calibrateTensor('aciq_laplace', stats(a, b), CONTEXT).threshold).toBeCloseTo(2.93933767, 7);
    expect(calibrateTensor('aciq_laplace', stats(a, b), { ...CONTEXT, bits: 4 }).threshold).toBeCloseTo(1.49350612, 7);
    // [0, 10, 0, 10]: mean|x - 5| = 5 -> 49.48 > absmax 10: capped
    expect(calibrateTensor('aciq_laplace', stats([0, 10, 0, 10]), CONTEXT).threshold).toBe(10);
  });
});
