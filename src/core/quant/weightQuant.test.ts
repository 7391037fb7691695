import { describe, expect, it } from 'vitest';
import { dequantizeWeight, quantizeBias, quantizeWeightSymmetric } from './weightQuant';

describe('per-channel symmetric weights', () => {
  it('one scale per output channel: max|W_c| / 127, values rounded half to even', () => {
    // values chosen exact in float32: channel 0 has scale 1, channel 1 scale 0.5
    const weight = { dtype: 'float32' as const, dims: [2, 3], data: new Float32Array([127, -63.5, 0.5, 63.5, 0.25, -0.75]) };
    const q = quantizeWeightSymmetric(weight, 0, 'int8');
    expect(Array.from(q.scales)).toEqual([1, 0.5]);
    expect(Array.from(q.values)).toEqual([127, -64, 0, 127, 0, -2]); // -63.5 -> -64, 0.5 -> 0, -1.5 -> -2 (half to even)
    const back = dequantizeWeight(q);
    for (let i = 0; i < 6; i++) expect(Math.abs(back[i] - weight.data[i])).toBeLessThanOrEqual(q.scales[i < 3 ? 0 : 1] / 2 + 1e-9);
  });

  it('per-channel along axis 1 (ConvTranspose, MatMul) and per-tensor', () => {
    const weight = { dtype: 'float32' as const, dims: [2, 2], data: new Float32Array([1, 0.5, -2, 0.25]) };
    expect(Array.from(quantizeWeightSymmetric(weight, 1, 'int8').scales)).toEqual([Math.fround(2 / 127), Math.fround(0.5 / 127)]);
    expect(Array.from(quantizeWeightSymmetric(weight, 0, 'int8', false).scales)).toEqual([Math.fround(2 / 127)]);
  });

  it('int4 uses -7..7 and int16 -32767..32767', () => {
    const int4 = { dtype: 'float32' as const, dims: [1, 3], data: new Float32Array([7, -3.5, 2.5]) };
    expect(Array.from(quantizeWeightSymmetric(int4, 0, 'int4').values)).toEqual([7, -4, 2]);
    const int16 = { dtype: 'float32' as const, dims: [1, 3], data: new Float32Array([32767, -16383.5, 1]) };
    expect(Array.from(quantizeWeightSymmetric(int16, 0, 'int16').values)).toEqual([32767, -16384, 1]);
  });

  it('bias: int32 with scale s_in * s_w[c]', () => {
    const { values, scales } = quantizeBias(new Float32Array([0.5, -0.25]), 0.1, new Float32Array([0.01, 0.02]));
    expect(Array.from(scales)).toEqual([Math.fround(Math.fround(0.1) * Math.fround(0.01)), Math.fround(Math.fround(0.1) * Math.fround(0.02))]);
    expect(Array.from(values)).toEqual([500, -125]);
  });
});
