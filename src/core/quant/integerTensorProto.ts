import { DataType, onnx } from '../io/onnx/protobuf';
import { makeTensorProto } from '../io/onnx/tensorProto';
import type { DType } from '../model/tensor';
import type { QuantType } from './qparams';

const ONNX_QUANT_TYPE: Record<QuantType, number> = {
  uint8: DataType.UINT8, int8: DataType.INT8, uint16: DataType.UINT16, int16: DataType.INT16, uint4: DataType.UINT4, int4: DataType.INT4,
};

/** The tensor element type that stores a quantized type; none for the packed 4-bit types. */
export const QUANT_DTYPE: Record<QuantType, DType | undefined> = {
  uint8: 'uint8', int8: 'int8', uint16: 'uint16', int16: 'int16', uint4: undefined, int4: undefined,
};

/** An integer initializer of a quantized type; int4/uint4 are packed two to a byte, low nibble first (ONNX IR). */
export function integerTensorProto(name: string, type: QuantType, dims: readonly number[], values: Int32Array): onnx.TensorProto {
  const dtype = QUANT_DTYPE[type];
  if (dtype) {
    const Typed = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array }[dtype as 'uint8' | 'int8' | 'uint16' | 'int16'];
    return makeTensorProto(name, { dtype, dims, data: Typed.from(values) });
  }
  const packed = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) packed[i >> 1] |= (values[i] & 0x0f) << ((i & 1) * 4);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: ONNX_QUANT_TYPE[type], rawData: packed });
}
