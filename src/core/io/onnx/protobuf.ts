import Long from 'long';
import $protobuf from 'protobufjs/minimal.js';
import { onnx } from './generated/onnx.js';

// protobufjs looks for `long` with a dynamic require that bundlers cannot see; without it, int64
// fields decode to lossy numbers in the browser but to Long in Node. Setting it here makes every
// environment decode int64 the same way and keeps values like INT64_MAX exact on a round trip.
$protobuf.util.Long = Long as unknown as typeof $protobuf.util.Long;
$protobuf.configure();

export { onnx, Long };

export type Int64 = number | Long;

/** An int64 field as a JS number (exact up to 2^53, which every dimension and axis is). */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;
