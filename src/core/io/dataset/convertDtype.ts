import { float16BitsToFloat32 } from '../../model/float16';
import type { DType, Tensor, TensorData } from '../../model/tensor';

export type Conversion = { readonly tensor: Tensor } | { readonly problem: string };

const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], bool: [0, 1],
};

/** Whether the number `v` has an exact value in `dtype` (NaN passes for floats: validation reports it). */
function exactIn(v: number, dtype: DType): boolean {
  if (dtype === 'float64') return true;
  if (dtype === 'float32') return Number.isNaN(v) || Math.fround(v) === v;
  if (dtype === 'int64') return Number.isInteger(v);
  const range = INT_RANGE[dtype];
  return !!range && Number.isInteger(v) && v >= range[0] && v <= range[1];
}

function exactBigIn(v: bigint, dtype: DType): boolean {
  if (dtype === 'int64') return true;
  if (dtype === 'float32') return BigInt(Math.fround(Number(v))) === v;
  if (dtype === 'float64') return BigInt(Number(v)) === v;
  const range = INT_RANGE[dtype];
  return !!range && v >= BigInt(range[0]) && v <= BigInt(range[1]);
}

function allocate(dtype: DType, length: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int8': return new Int8Array(length);
    case 'uint8': case 'bool': return new Uint8Array(length);
    case 'int16': return new Int16Array(length);
    case 'uint16': case 'float16': return new Uint16Array(length);
    case 'int32': return new Int32Array(length);
    case 'int64': return new BigInt64Array(length);
  }
}

/**
 * `tensor` in the model input's `dtype`, where that changes no value: every element must have an
 * exact value in the target (int64 ids that fit int32, uint8 pixels as float32, 0/1 as bool).
 * float64 -> float32 is the one rounding conversion allowed (numpy's default float is float64).
 * Nothing is rounded to float16: a float16 input needs float16 data.
 * @example convertDtype({ dtype: 'int64', dims: [2], data: new BigInt64Array([1n, 2n]) }, 'int32') // { tensor: { dtype: 'int32', dims: [2], data: Int32Array [1, 2] } }
 * @example convertDtype({ dtype: 'float32', dims: [1], data: new Float32Array([0.5]) }, 'int32') // { problem: 'element 0 (0.5) has no exact int32 value' }
 */
export function convertDtype(tensor: Tensor, dtype: DType): Conversion {
  if (tensor.dtype === dtype) return { tensor };
  const { data } = tensor;
  if (tensor.dtype === 'float64' && dtype === 'float32') return { tensor: { ...tensor, dtype, data: Float32Array.from(data as Float64Array) } };
  if (dtype === 'float16') return { problem: 'qbench does not round data to float16; save it as float16' };
  const out = allocate(dtype, data.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!exactBigIn(v, dtype)) return { problem: `element ${i} (${v}) has no exact ${dtype} value` };
      if (out instanceof BigInt64Array) out[i] = v;
      else out[i] = Number(v);
    }
    return { tensor: { ...tensor, dtype, data: out } };
  }
  const values: ArrayLike<number> = tensor.dtype === 'float16' ? float16BitsToFloat32(data as Uint16Array) : (data as Exclude<TensorData, BigInt64Array>);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!exactIn(v, dtype)) return { problem: `element ${i} (${v}) has no exact ${dtype} value` };
    if (out instanceof BigInt64Array) out[i] = BigInt(v);
    else out[i] = v;
  }
  return { tensor: { ...tensor, dtype, data: out } };
}
