import { describe, expect, it } from 'vitest';
import { asymmetricQParams, dequantizeValue, quantizeValue, symmetricQParams } from './qparams';
import { roundHalfEven } from './rounding';

describe('qparams (docs/algorithms.md §1)', () => {
  it('uint8 asymmetric: min -1, max 1.55 gives scale 0.01 and zero point 100', () => {
    const qp = asymmetricQParams({ min: -1, max: 1.55 }, 'uint8');
    expect(qp.scale).toBeCloseTo(0.01, 9);
    expect(qp.zeroPoint).toBe(100);
  });

  it('uint8 asymmetric widens the range to include 0 and gives zp 0 for non-negative tensors', () => {
    expect(asymmetricQParams({ min: 0.5, max: 2.55 }, 'uint8')).toEqual({ type: 'uint8', scale: Math.fround(0.01), zeroPoint: 0 });
    expect(asymmetricQParams({ min: -2.55, max: -1 }, 'uint8').zeroPoint).toBe(255);
  });

  it('uint8 asymmetric floors the scale at 1e-5 (an all-zero tensor)', () => {
    expect(asymmetricQParams({ min: 0, max: 0 }, 'uint8').scale).toBe(Math.fround(1e-5));
  });

  it('int8 symmetric: threshold / 127, zero point 0', () => {
    const qp = symmetricQParams({ min: -2.54, max: 1 }, 'int8');
    expect(qp.scale).toBeCloseTo(0.02, 9);
    expect(qp.zeroPoint).toBe(0);
  });

  it('int16 symmetric: max(|min|,|max|) / 32767 with a floor of 1e-8', () => {
    expect(symmetricQParams({ min: -3.2767, max: 1 }, 'int16').scale).toBe(Math.fround(3.2767 / 32767));
    expect(symmetricQParams({ min: 0, max: 0 }, 'int16').scale).toBe(Math.fround(1e-8));
  });

  it('|dequantize(quantize(x)) - x| <= scale / 2 inside the range', () => {
    const qp = asymmetricQParams({ min: -1.3, max: 2.9 }, 'uint8');
    for (let x = -1.3; x <= 2.9; x += 0.0137) {
      expect(Math.abs(dequantizeValue(quantizeValue(x, qp), qp) - x)).toBeLessThanOrEqual(qp.scale / 2 + 1e-7);
    }
  });

  it('rounds half to even, as QuantizeLinear does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });
});
