import type { Tensor } from '../model/tensor';
import { symmetricLimit, QUANT_LIMITS, type QuantType } from './qparams';
import { roundHalfEven } from './rounding';
import { weightScales, type WeightScaleMethod } from './weightScale';

export interface QuantizedWeight {
  readonly type: QuantType;
  readonly dims: readonly number[];
  /** Integer values, one per weight element (int4 is packed only when written to a model). */
  readonly values: Int32Array;
  /** One float32 scale per channel along `axis` (a single one when per-tensor). */
  readonly scales: Float32Array;
  readonly axis: number;
  readonly perChannel: boolean;
}

/**
 * Symmetric per-channel quantization of a float weight (docs/algorithms.md §1, §3):
 * q = clamp(round_half_even(W / s_c), -qmax, qmax) with s_c from `scaleMethod` (weightScale.ts):
 * 'max' (default) s_c = max|W_c| / qmax ("min/max per channel"), 'mse' the scale minimising the
 * squared error ("minimum-MSE scale"). A channel of zeros gets scale 1e-8 so DequantizeLinear
 * stays defined.
 * @example quantizeWeightSymmetric({ dtype: 'float32', dims: [1, 2], data: new Float32Array([127, -63.5]) }, 0, 'int8').values // [127, -64]
 */
export function quantizeWeightSymmetric(weight: Tensor, axis: number, type: QuantType, perChannel = true, scaleMethod: WeightScaleMethod = 'max'): QuantizedWeight {
  const data = weight.data as Float32Array;
  const dims = weight.dims;
  const channels = perChannel ? dims[axis] : 1;
  const inner = perChannel ? dims.slice(axis + 1).reduce((a, b) => a * b, 1) : data.length;
  const qmax = symmetricLimit(type);
  const scales = weightScales(weight, axis, type, perChannel, scaleMethod);
  const values = new Int32Array(data.length);
  const { min, max } = { min: -qmax, max: Math.min(qmax, QUANT_LIMITS[type].max) };
  for (let i = 0; i < data.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    values[i] = Math.min(max, Math.max(min, roundHalfEven(data[i] / scales[c])));
  }
  return { type, dims: [...dims], values, scales, axis, perChannel };
}

/** W' = s_c * q: what DequantizeLinear gives back. */
export function dequantizeWeight(q: QuantizedWeight): Float32Array {
  const channels = q.perChannel ? q.dims[q.axis] : 1;
  const inner = q.perChannel ? q.dims.slice(q.axis + 1).reduce((a, b) => a * b, 1) : q.values.length;
  const out = new Float32Array(q.values.length);
  for (let i = 0; i < out.length; i++) {
    const c = q.perChannel ? Math.floor(i / inner) % channels : 0;
    out[i] = q.values[i] * q.scales[c];
  }
  return out;
}

/**
 * int32 bias with scale s_in * s_w[c] and zero point 0 (docs/algorithms.md §1), as onnxruntime's
 * quantizer computes it (numpy.round, half to even). Values beyond int32 are clamped, unless
 * `widen`: then a channel whose bias does not fit takes the smallest scale that holds it
 * (|b| / (2^31 - 1)). 16-bit layers need that: s_in * s_w of int16 scales is 2^16 times smaller
 * than of int8 ones, so biases overflow int32 where ONE keeps them in int64; onnxruntime computes
 * int16 layers in float, so the bias keeps its value to 2^-31 relative either way.
 * @example quantizeBias(new Float32Array([3]), 1e-5, new Float32Array([1e-5]), true).values // [2147483647]: scale 3 / (2^31 - 1)
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array, widen = false): { values: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(bias.length);
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    let s = Math.fround(Math.fround(inputScale) * weightScales[weightScales.length === 1 ? 0 : c % weightScales.length]);
    if (widen && Math.abs(bias[c] / s) > INT32_MAX) s = Math.fround(Math.abs(bias[c]) / INT32_MAX * (1 + 2 ** -20));
    scales[c] = s;
    values[c] = Math.max(-2147483648, Math.min(INT32_MAX, roundHalfEven(bias[c] / s)));
  }
  return { values, scales };
}

const INT32_MAX = 2147483647;
