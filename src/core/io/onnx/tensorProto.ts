import { FormatError } from '../../errors';
import type { DType, Tensor, TensorData } from '../../model/tensor';
import { DataType, int64ToNumber, onnx, type Int64 } from './protobuf';

/** ONNX TensorProto.DataType of each core dtype. */
export const ONNX_DATA_TYPE: Record<DType, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  int16: DataType.INT16,
  uint16: DataType.UINT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

const DTYPE_OF: Record<number, DType> = Object.fromEntries(
  Object.entries(ONNX_DATA_TYPE).map(([dtype, code]) => [code, dtype as DType]),
);

export function dtypeOfOnnx(code: number): DType | undefined {
  return DTYPE_OF[code];
}

const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1,
};

function typedArrayFromBuffer(dtype: DType, buffer: ArrayBuffer, count: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, 0, count);
    case 'float64': return new Float64Array(buffer, 0, count);
    case 'float16': case 'uint16': return new Uint16Array(buffer, 0, count);
    case 'int16': return new Int16Array(buffer, 0, count);
    case 'int8': return new Int8Array(buffer, 0, count);
    case 'uint8': case 'bool': return new Uint8Array(buffer, 0, count);
    case 'int32': return new Int32Array(buffer, 0, count);
    case 'int64': return new BigInt64Array(buffer, 0, count);
  }
}

function allocate(dtype: DType, count: number): TensorData {
  return typedArrayFromBuffer(dtype, new ArrayBuffer(count * BYTES_PER_ELEMENT[dtype]), count);
}

export function tensorDims(proto: onnx.ITensorProto): number[] {
  return (proto.dims ?? []).map((d) => int64ToNumber(d as Int64));
}

export function isExternal(proto: onnx.ITensorProto): boolean {
  return proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/**
 * The values of an initializer or Constant tensor, from raw_data or the typed fields.
 * Raw bytes are copied so that the typed array is aligned (protobuf hands out unaligned views).
 */
export function readTensorProto(proto: onnx.ITensorProto, fileName: string): Tensor {
  const name = proto.name ?? '';
  const code = proto.dataType ?? 0;
  const dtype = dtypeOfOnnx(code);
  if (!dtype) {
    const typeName = onnx.TensorProto.DataType[code] ?? `type ${code}`;
    throw new FormatError(fileName, `tensor "${name}" has element type ${typeName}, which qbench cannot read`);
  }
  if (isExternal(proto)) {
    const location = proto.externalData?.find((e) => e.key === 'location')?.value ?? 'another file';
    throw new FormatError(fileName, `tensor "${name}" keeps its data in an external file (${location}); qbench reads models with their weights inside the .onnx file only. Re-save the model without external data (onnx.save(model, path, save_as_external_data=False)).`);
  }
  const dims = tensorDims(proto);
  const count = dims.reduce((a, b) => a * b, 1);
  // Checked before anything is allocated from the declared shape: a damaged dim (negative, or 2^31 and up)
  // would otherwise reach new ArrayBuffer and fail there with "Array buffer allocation failed".
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || !Number.isSafeInteger(count)) {
    throw new FormatError(fileName, `tensor "${name}" declares shape [${dims.join(',')}], which no tensor has (a dimension is negative or too large); the file is damaged`);
  }
  const raw = proto.rawData;
  if (raw && raw.length > 0) {
    const expected = count * BYTES_PER_ELEMENT[dtype];
    if (raw.length !== expected) {
      throw new FormatError(fileName, `tensor "${name}" of shape [${dims.join(',')}] should hold ${expected} bytes but holds ${raw.length}; the file may be truncated`);
    }
    const copy = new Uint8Array(expected);
    copy.set(raw);
    return { dtype, dims, data: typedArrayFromBuffer(dtype, copy.buffer, count) };
  }
  // The values field must hold `count` values before `count` elements are allocated: the shape may lie.
  const stored = dtype === 'float32' ? proto.floatData : dtype === 'float64' ? proto.doubleData : dtype === 'int64' ? proto.int64Data : proto.int32Data;
  const field = dtype === 'float32' ? 'float_data' : dtype === 'float64' ? 'double_data' : dtype === 'int64' ? 'int64_data' : 'int32_data';
  if ((stored?.length ?? 0) !== count) {
    throw new FormatError(fileName, `tensor "${name}" of shape [${dims.join(',')}] needs ${count} values but ${field} holds ${stored?.length ?? 0}`);
  }
  const out = allocate(dtype, count);
  const fill = (values: ArrayLike<number> | null | undefined, label: string) => {
    const length = values?.length ?? 0;
    if (length !== count) {
      throw new FormatError(fileName, `tensor "${name}" of shape [${dims.join(',')}] needs ${count} values but ${label} holds ${length}`);
    }
    (out as Exclude<TensorData, BigInt64Array>).set(values as ArrayLike<number>);
  };
  switch (dtype) {
    case 'float32': fill(proto.floatData, 'float_data'); break;
    case 'float64': fill(proto.doubleData, 'double_data'); break;
    case 'int64': {
      const values = proto.int64Data ?? [];
      if (values.length !== count) {
        throw new FormatError(fileName, `tensor "${name}" of shape [${dims.join(',')}] needs ${count} values but int64_data holds ${values.length}`);
      }
      const big = out as BigInt64Array;
      values.forEach((v, i) => { big[i] = typeof v === 'number' ? BigInt(v) : BigInt(v.toString()); });
      break;
    }
    default: fill(proto.int32Data, 'int32_data'); break; // int8/16/32, uint8/16, bool, float16 bits
  }
  return { dtype, dims, data: out };
}

/** A TensorProto holding `tensor` in raw_data (little-endian, as every platform qbench runs on). */
export function makeTensorProto(name: string, tensor: Tensor): onnx.TensorProto {
  const { data } = tensor;
  return onnx.TensorProto.create({
    name,
    dims: [...tensor.dims],
    dataType: ONNX_DATA_TYPE[tensor.dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

export function scalarProto(name: string, dtype: DType, value: number): onnx.TensorProto {
  const data = allocate(dtype, 1);
  if (data instanceof BigInt64Array) data[0] = BigInt(value);
  else data[0] = value;
  return makeTensorProto(name, { dtype, dims: [], data });
}

export function int64VectorProto(name: string, values: readonly (number | bigint)[]): onnx.TensorProto {
  return makeTensorProto(name, { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
}
