import { QbenchError } from '../../errors';
import { float16BitsToFloat32 } from '../../model/float16';
import type { DType, Tensor, TensorData } from '../../model/tensor';
import type { FlatQuantization, FlatTensor } from './flatModel';

/** TensorType codes (identical in TFLite's and Circle's schemas) of the types qbench reads. */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, INT8: 9, FLOAT64: 10, UINT16: 16 } as const;

const DTYPES: Record<number, DType> = {
  [TensorType.FLOAT32]: 'float32', [TensorType.FLOAT16]: 'float16', [TensorType.INT32]: 'int32', [TensorType.UINT8]: 'uint8',
  [TensorType.INT64]: 'int64', [TensorType.BOOL]: 'bool', [TensorType.INT16]: 'int16', [TensorType.INT8]: 'int8',
  [TensorType.FLOAT64]: 'float64', [TensorType.UINT16]: 'uint16',
};

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TensorType).map(([k, v]) => [v, k]));

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/** The core dtype of a tensor type, or a QbenchError naming the tensor (strings, complex, int4...). */
export function dtypeOf(tensor: FlatTensor, fileName: string): DType {
  const dtype = DTYPES[tensor.type];
  if (!dtype) throw new QbenchError(`tensor "${tensor.name}" has element type ${typeName(tensor.type)}, which qbench cannot read`, fileName);
  return dtype;
}

/** Integer types a quantized activation or weight is stored in. */
export function isQuantizedType(type: number): boolean {
  return type === TensorType.INT8 || type === TensorType.UINT8 || type === TensorType.INT16 || type === TensorType.INT32 || type === TensorType.INT64;
}

/** The tensor carries a scale and its values are integers standing for reals. */
export function isQuantized(tensor: FlatTensor): tensor is FlatTensor & { quantization: FlatQuantization } {
  return tensor.quantization !== null && isQuantizedType(tensor.type);
}

const BYTES: Record<DType, number> = { float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1 };

/** The stored values of a constant tensor, copied (flatbuffer vectors need not be aligned for typed arrays). */
export function storedValues(tensor: FlatTensor, fileName: string): Tensor {
  const dtype = dtypeOf(tensor, fileName);
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const data = tensor.data;
  if (!data) throw new QbenchError(`tensor "${tensor.name}" should be a constant but holds no data`, fileName);
  if (data.length !== count * BYTES[dtype]) {
    throw new QbenchError(`tensor "${tensor.name}" of shape [${tensor.shape.join(',')}] should hold ${count * BYTES[dtype]} bytes but holds ${data.length}`, fileName);
  }
  const buffer = data.slice().buffer;
  const typed: Record<DType, () => TensorData> = {
    float32: () => new Float32Array(buffer), float16: () => new Uint16Array(buffer), float64: () => new Float64Array(buffer),
    int8: () => new Int8Array(buffer), uint8: () => new Uint8Array(buffer), int16: () => new Int16Array(buffer), uint16: () => new Uint16Array(buffer),
    int32: () => new Int32Array(buffer), int64: () => new BigInt64Array(buffer), bool: () => new Uint8Array(buffer),
  };
  return { dtype, dims: [...tensor.shape], data: typed[dtype]() };
}

/**
 * A constant's values as float32: a quantized tensor dequantized, scale * (q - zero_point), per
 * tensor or per channel of its quantized dimension (so the float model keeps the weights' integer
 * rounding); float16 widened; float32 as stored.
 */
export function floatValues(tensor: FlatTensor, fileName: string): Float32Array {
  // A quantized file is converted twice (the float model, the file's own quantized one) from the
  // same tensors: their weights are de-quantized once (issue #14's 1 s to open MobileNetV2).
  let values = floatCache.get(tensor);
  if (!values) floatCache.set(tensor, (values = dequantized(tensor, fileName)));
  return values;
}

/** floatValues' results by tensor; never written to (initializers only wrap them). */
const floatCache = new WeakMap<FlatTensor, Float32Array>();

function dequantized(tensor: FlatTensor, fileName: string): Float32Array {
  const stored = storedValues(tensor, fileName);
  if (stored.dtype === 'float32') return stored.data as Float32Array;
  if (stored.dtype === 'float16') return float16BitsToFloat32(stored.data as Uint16Array);
  const q = tensor.quantization;
  const values = stored.data;
  const out = new Float32Array(values.length);
  if (!q) {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
    return out;
  }
  const numbers: ArrayLike<number> = values instanceof BigInt64Array ? Array.from(values, Number) : (values as ArrayLike<number>);
  const channels = q.scale.length;
  // Runs of `inner` values share a channel (all of them when quantized per tensor).
  const inner = channels > 1 ? tensor.shape.slice(q.axis + 1).reduce((a, b) => a * b, 1) : values.length;
  for (let start = 0, c = 0; start < values.length; start += inner, c = (c + 1) % channels) {
    const zeroPoint = q.zeroPoint[c] ?? q.zeroPoint[0] ?? 0;
    const scale = q.scale[c];
    const end = Math.min(start + inner, values.length);
    for (let i = start; i < end; i++) out[i] = (numbers[i] - zeroPoint) * scale;
  }
  return out;
}

/** A constant's values as JS numbers (shapes, axes, paddings, begin/end indices). */
export function intValues(tensor: FlatTensor, fileName: string): number[] {
  const stored = storedValues(tensor, fileName);
  return Array.from(stored.data as ArrayLike<number | bigint>, (v) => Number(v));
}
