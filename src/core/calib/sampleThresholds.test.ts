import { describe, expect, it } from 'vitest';
import { aciqGaussThreshold, aciqLaplaceThreshold, octavThreshold } from './sampleThresholds';
import { float32Values, seededNormal } from './testSupport';

/** The OCTAV update, written from the formula (docs/algorithms.md §2) to check the fixed point. */
function octavStep(values: ArrayLike<number>, s: number, bits: number, u: number): number {
  let sumAbove = 0;
  let above = 0;
  let atMost = 0;
  for (const v of Array.from(values)) {
    if (Math.abs(v) > s) {
      sumAbove += Math.abs(v);
      above++;
    } else atMost++;
  }
  return sumAbove / (4 ** -bits / (3 * u) * atMost + above);
}

describe('OCTAV per-sample threshold (TPU-MLIR use_mse)', () => {
  it('x = [1, 2, 3, 4], 8 bit, non-negative: converges to 4 / (1 + 3c) in three steps', () => {
    // c = 4^-8 / (3 * 4) = 1.27157e-6 (u = 4: the tensor is non-negative)
    // s0 = sum|x| / count(|x| > 0) = 10 / 4 = 2.5
    // s1 = (3 + 4) / (2c + 2) = 3.49999555   (|x| > 2.5: 3 and 4; |x| <= 2.5: 1 and 2)
    // s2 = 4 / (3c + 1)      = 3.99998474   (|x| > s1: only 4)
    // s3 = 4 / (3c + 1) = s2: |ds| < 1e-6, TPU-MLIR breaks and keeps s2
    const c = 4 ** -8 / 12;
    expect(octavThreshold([1, 2, 3, 4], 8, true)).toBe(4 / (3 * c + 1));
    expect(octavThreshold([1, 2, 3, 4], 8, true)).toBeCloseTo(3.99998474, 8);
  });

  it('signed tensors use u = 1: c = 4^-8 / 3, so the same values give 4 / (1 + 3 * 4^-8 / 3)', () => {
    expect(octavThreshold([-1, 2, -3, 4], 8, false)).toBe(4 / ((3 * 4 ** -8) / 3 + 1));
  });

  it('the result on a Gaussian sample satisfies its fixed-point equation s = f(s) to 1e-6', () => {
    const values = float32Values(20000, seededNormal(11));
    for (const bits of [8, 4] as const) {
      const s = octavThreshold(values, bits, false);
      expect(Math.abs(octavStep(values, s, bits, 1) - s)).toBeLessThan(1e-6);
      // OCTAV's known optimum for N(0,1): about 2.5-3 sigma at 4 bit, wider at 8 bit
      expect(s).toBeGreaterThan(bits === 4 ? 2 : 3.5);
      expect(s).toBeLessThan(bits === 4 ? 3.2 : 5.5);
    }
  });

  it('a sample of zeros gives 0 instead of 0/0', () => {
    expect(octavThreshold(new Float32Array(16), 8, true)).toBe(0);
    expect(octavThreshold([], 4, false)).toBe(0);
  });
});

describe('ACIQ per-sample thresholds', () => {
  it('Gauss: alpha * (max - min) * 0.175 * (1 + sqrt(pi ln 4)) / sqrt(2 ln N)', () => {
    // pi ln 4 = 4.35517218, sqrt = 2.08690493, 1 + that = 3.08690493
    // (max - min) = 4; 4 * 0.175 * 3.08690493 = 2.16083345; sqrt(2 ln 100) = 3.03485426
    // 8 bit: 3.92403337 * 2.16083345 / 3.03485426 = 2.79393402
    // 4 bit: 2.55913642 * 2.16083345 / 3.03485426 = 1.82212...
    expect(aciqGaussThreshold(-1, 3, 100, 8)).toBeCloseTo(2.79393402, 7);
    expect(aciqGaussThreshold(-1, 3, 100, 4)).toBeCloseTo((2.55913642 * 2.16083345) / 3.03485426, 6);
  });

  it('Gauss of a one-element tensor (ln 1 = 0) is its absmax, not Infinity or NaN', () => {
    expect(aciqGaussThreshold(-2, -2, 1, 8)).toBe(2);
    expect(aciqGaussThreshold(0, 0, 1, 4)).toBe(0);
  });

  it('Laplace: beta * mean|x - mean(x)|', () => {
    // x = [0, 1, 2, 5]: mean 2, |x - 2| = [2, 1, 0, 3], mean 1.5
    // 8 bit: 9.89675982 * 1.5 = 14.84513973; 4 bit: 5.02864014 * 1.5 = 7.54296021
    expect(aciqLaplaceThreshold([0, 1, 2, 5], 8)).toBeCloseTo(14.84513973, 8);
    expect(aciqLaplaceThreshold([0, 1, 2, 5], 4)).toBeCloseTo(7.54296021, 8);
    expect(aciqLaplaceThreshold([], 8)).toBe(0);
  });
});
