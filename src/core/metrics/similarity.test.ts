import { describe, expect, it } from 'vitest';
import { compareTensors, metricsFromSums } from './similarity';

describe('metrics from error sums', () => {
  it('an exact tensor: cosine 1 and SQNR ∞', () => {
    expect(compareTensors([1, -2, 3], [1, -2, 3])).toEqual({ cos: 1, mse: 0, sqnr: Infinity });
  });

  it('sums past float32\'s range (a probe sums in float32): no cosine and no SQNR, never ∞ dB', () => {
    // ResNet-50 from the ONNX test suite (constant weights): activations of 1e20, squared sums overflow
    const overflowed = metricsFromSums({ ff: Infinity, qq: Infinity, dd: 1.2e33, count: 1000 });
    expect(overflowed.cos).toBeNaN();
    expect(overflowed.sqnr).toBeNaN();
    expect(overflowed.mse).toBeCloseTo(1.2e30, -25);
    expect(metricsFromSums({ ff: 4, qq: 4, dd: Infinity, count: 2 })).toEqual({ cos: NaN, mse: NaN, sqnr: NaN });
  });
});
