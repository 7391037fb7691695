import { describe, expect, it } from 'vitest';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../model/CaliTable';
import { calibrateAllMethods, calibrateTensor, calibrator, type MethodContext } from './calibrate';
import { TensorStatisticsAccumulator, type TensorStatistics } from './TensorStatistics';
import { fullObservation } from './testSupport';

const CONTEXT: MethodContext = { bits: 8, position: 2, positionCount: 5, isGraphInput: false, histogramBins: 2048 };

function stats(...samples: number[][]): TensorStatistics {
  const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: samples.length });
  for (const s of samples) acc.add(fullObservation(Float32Array.from(s)));
  return acc.result();
}

describe('calibrator strategies', () => {
  it('every named method has a strategy of that name', () => {
    for (const method of CALIBRATION_METHODS) expect(calibrator(method).method).toBe(method);
  });

  it('an unknown name throws, listing the known ones', () => {
    expect(() => calibrator('entropy' as CalibrationMethod)).toThrow(
      new Error('unknown calibration method "entropy" (expected max, percentile9999, minmax_percentile, moving_average, kl, kl_tensorrt, mse, aciq_gauss, aciq_laplace)'),
    );
  });

  it('a tensor never observed, bad bits or a bad position are refused with the reason', () => {
    const empty = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 }).result();
    expect(() => calibrateTensor('kl', empty, CONTEXT)).toThrow(new Error('cannot calibrate with kl: the tensor was observed in 0 samples'));
    expect(() => calibrateTensor('max', stats([1]), { ...CONTEXT, bits: 2 as 8 })).toThrow(new Error('activation bits must be 8 or 4, got 2'));
    expect(() => calibrateTensor('max', stats([1]), { ...CONTEXT, position: 6 })).toThrow(
      new Error('position 6 of 5 ops is not a topological position (0 <= i <= n, n >= 1)'),
    );
  });

  it('calibrateAllMethods gives one entry per method, each tagged with its source', () => {
    const all = calibrateAllMethods(stats([-1, 0.5, 2, 0.25], [-3, 1, 0.5, 0]), CONTEXT);
    expect(Object.keys(all)).toEqual([...CALIBRATION_METHODS]);
    for (const method of CALIBRATION_METHODS) expect(all[method].source).toBe(method);
    expect(all.max).toEqual({ threshold: 3, min: -3, max: 2, source: 'max' });
  });
});

describe('degenerate tensors give finite, sensible entries (never NaN)', () => {
  const cases: Record<string, TensorStatistics> = {
    'all zeros': stats([0, 0, 0], [0, 0, 0]),
    'constant 2.5': stats([2.5, 2.5], [2.5, 2.5]),
    'constant -1': stats([-1, -1, -1]),
    'a single sample': stats([-0.5, 0.25, 1]),
    'a single element': stats([3]),
    'one sample of zeros then data': stats([0, 0], [1, -2]),
  };
  for (const [name, s] of Object.entries(cases)) {
    it(name, () => {
      for (const bits of [8, 4] as const) {
        for (const isGraphInput of [false, true]) {
          const all = calibrateAllMethods(s, { ...CONTEXT, bits, isGraphInput });
          const top = Math.max(Math.abs(s.min), Math.abs(s.max));
          for (const method of CALIBRATION_METHODS) {
            const { threshold, min, max } = all[method];
            expect(Number.isFinite(threshold) && Number.isFinite(min) && Number.isFinite(max), `${name} ${method}`).toBe(true);
            expect(threshold, `${name} ${method}`).toBeGreaterThanOrEqual(1e-5);
            expect(threshold, `${name} ${method}`).toBeLessThanOrEqual(Math.max(top, 1e-5) + 1e-12);
            expect(min <= max, `${name} ${method}`).toBe(true);
          }
        }
      }
    });
  }

  it('all zeros: threshold 1e-5 (TPU-MLIR\'s floor), range [0, 0]', () => {
    const all = calibrateAllMethods(cases['all zeros'], CONTEXT);
    for (const method of CALIBRATION_METHODS) expect(all[method]).toEqual({ threshold: 1e-5, min: 0, max: 0, source: method });
  });

  it('constant 2.5: every method gives 2.5, the only value', () => {
    const all = calibrateAllMethods(cases['constant 2.5'], CONTEXT);
    for (const method of ['max', 'percentile9999', 'minmax_percentile', 'moving_average', 'kl', 'kl_tensorrt'] as const) {
      expect(all[method].threshold, method).toBeCloseTo(2.5, 12);
    }
  });
});
