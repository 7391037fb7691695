import { describe, expect, it } from 'vitest';
import { float32Values, seededNormal } from '../calib/testSupport';
import { dequantizeWeight, quantizeWeightSymmetric } from './weightQuant';
import { minMseScale, quantizationSquaredError, weightScales, type WeightScaleMethod } from './weightScale';

/** The 16 weights of Samsung/ONE issue #12184 ("[circle-quantizer] Minimum MSE Quantization"). */
const ISSUE_WEIGHTS = [
  0.0027225911617279053, 0.18983474373817444, 0.41336789727211, -0.18240013718605042, 0.2007804811000824, -0.19718044996261597,
  -0.06138917803764343, -0.12958911061286926, -0.12484398484230042, -0.4296090304851532, -0.3490271270275116, 0.3468421995639801,
  0.3684578835964203, 0.18269559741020203, 0.23875799775123596, -0.2323986440896988,
];
const issueTensor = { dtype: 'float32' as const, dims: [1, 16], data: Float32Array.from(ISSUE_WEIGHTS) };

/** Root-mean-square error: what the issue calls "MSE" (docs/algorithms.md §3). */
function rmsError(scale: number, qmax: number): number {
  return Math.sqrt(quantizationSquaredError(issueTensor.data, scale, qmax) / 16);
}

describe('minimum-MSE weight scale (docs/algorithms.md §3, ONE issue #12184)', () => {
  it('int8: max scale 0.0033827 -> RMS 8.263e-4; optimal 0.0037988 -> 5.852e-4', () => {
    const max = weightScales(issueTensor, 0, 'int8', true, 'max')[0];
    const mse = weightScales(issueTensor, 0, 'int8', true, 'mse')[0];
    expect(max).toBeCloseTo(0.0033827, 7); // 0.4296090305 / 127
    expect(rmsError(max, 127)).toBeCloseTo(8.263e-4, 7);
    expect(mse).toBeCloseTo(0.0037988, 7);
    expect(rmsError(mse, 127)).toBeCloseTo(5.852e-4, 7);
    // the issue's levels at the optimal scale
    expect(Array.from(quantizeWeightSymmetric(issueTensor, 0, 'int8', true, 'mse').values)).toEqual([1, 50, 109, -48, 53, -52, -16, -34, -33, -113, -92, 91, 97, 48, 63, -61]);
  });

  it('int4: max scale 0.0613727 -> RMS 1.0758e-2; optimal 0.0602752 -> 9.683e-3', () => {
    const max = weightScales(issueTensor, 0, 'int4', true, 'max')[0];
    const mse = weightScales(issueTensor, 0, 'int4', true, 'mse')[0];
    expect(max).toBeCloseTo(0.0613727, 7); // 0.4296090305 / 7
    expect(rmsError(max, 7)).toBeCloseTo(1.0758e-2, 6);
    expect(mse).toBeCloseTo(0.0602752, 7);
    expect(rmsError(mse, 7)).toBeCloseTo(9.683e-3, 6);
    expect(Array.from(quantizeWeightSymmetric(issueTensor, 0, 'int4', true, 'mse').values)).toEqual([0, 3, 7, -3, 3, -3, -1, -2, -2, -7, -6, 6, 6, 3, 4, -4]);
  });

  it('within 1% of a 20000-point scan (int8, int4) and never worse than max / qmax (also int16)', () => {
    const next = seededNormal(31);
    for (const qmax of [127, 7, 32767]) {
      for (let trial = 0; trial < 4; trial++) {
        const values = float32Values(256, next);
        let amax = 0;
        for (const v of values) amax = Math.max(amax, Math.abs(v));
        const error = quantizationSquaredError(values, minMseScale(values, qmax), qmax);
        expect(error).toBeLessThanOrEqual(quantizationSquaredError(values, amax / qmax, qmax));
        if (qmax === 32767) continue; // int16: a jagged surface of rounding noise, only "no worse" is claimed
        let scanned = Infinity;
        for (let k = 0; k <= 20000; k++) scanned = Math.min(scanned, quantizationSquaredError(values, (amax / qmax) * (0.5 + k / 20000), qmax));
        expect(error).toBeLessThanOrEqual(scanned * 1.01);
      }
    }
  });

  it('all zeros: scale 0 from minMseScale, floored to 1e-8 per channel', () => {
    expect(minMseScale(new Float32Array(4), 127)).toBe(0);
    const zeros = { dtype: 'float32' as const, dims: [2, 2], data: new Float32Array([0, 0, 1, -1]) };
    expect(Array.from(weightScales(zeros, 0, 'int8', true, 'mse'))).toEqual([Math.fround(1e-8), Math.fround(1 / 127)]);
  });

  it('per channel along an axis, or per tensor', () => {
    // axis 1 of [2, 2]: channel 0 = [1, -2] -> max 2, channel 1 = [0.5, 0.25] -> max 0.5
    const w = { dtype: 'float32' as const, dims: [2, 2], data: new Float32Array([1, 0.5, -2, 0.25]) };
    expect(Array.from(weightScales(w, 1, 'int8', true, 'max'))).toEqual([Math.fround(2 / 127), Math.fround(0.5 / 127)]);
    expect(Array.from(weightScales(w, 1, 'int8', false, 'max'))).toEqual([Math.fround(2 / 127)]);
    expect(weightScales(w, 1, 'int8', true, 'mse').length).toBe(2);
    expect(weightScales(w, 1, 'int8', false, 'mse').length).toBe(1);
  });

  it('quantizeWeightSymmetric with mse: smaller reconstruction error than max on a Gaussian weight', () => {
    const weight = { dtype: 'float32' as const, dims: [8, 64], data: float32Values(512, seededNormal(5)) };
    const sse = (method: WeightScaleMethod): number => {
      const back = dequantizeWeight(quantizeWeightSymmetric(weight, 0, 'int4', true, method));
      return back.reduce((acc, v, i) => acc + (v - weight.data[i]) ** 2, 0);
    };
    expect(sse('mse')).toBeLessThan(sse('max'));
  });

  it('an unknown method throws, listing the known ones', () => {
    expect(() => weightScales(issueTensor, 0, 'int8', true, 'l1' as WeightScaleMethod)).toThrow(new Error('unknown weight scale method "l1" (expected max, mse)'));
  });
});
