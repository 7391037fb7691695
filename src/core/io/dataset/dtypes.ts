import type { DType, TensorData } from '../../model/tensor';

/** Bytes per element of each core dtype (float16 is stored as its raw bits, bool as one byte). */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1,
};

/**
 * A typed array of `dtype` over a copy of `bytes`, read as little-endian (the byte order of every
 * platform qbench runs on). The copy gives the result an aligned buffer of its own, so one sample can
 * cross Comlink as a transferable without detaching the file it came from.
 * @example fromBytes('int16', new Uint8Array([1, 0, 255, 255])) // Int16Array [1, -1]
 */
export function fromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const buffer = bytes.slice().buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'float16': case 'uint16': return new Uint16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
  }
}

/** The bytes of `data` (a view, not a copy). */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
