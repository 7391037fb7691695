/**
 * A plain tensor owned by core: crosses Comlink as a transferable and feeds any Engine.
 * `dims` are concrete; `data` holds the elements in row-major order.
 */
export type DType = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';

export type TensorData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array;

export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export type TensorMap = Record<string, Tensor>;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): Tensor {
  if (data.length !== elementCount(dims)) {
    throw new Error(`tensor of shape [${dims.join(',')}] needs ${elementCount(dims)} elements, got ${data.length}`);
  }
  return { dtype: 'float32', dims: [...dims], data };
}

/** Float view of a tensor's values (float16 is stored as raw Uint16 bits and decoded here). */
export function toFloat32(tensor: Tensor, decodeFloat16: (bits: Uint16Array) => Float32Array): Float32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) return data;
  if (tensor.dtype === 'float16') return decodeFloat16(data as Uint16Array);
  if (data instanceof BigInt64Array) return Float32Array.from(data, (v) => Number(v));
  return Float32Array.from(data as ArrayLike<number>);
}

export function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** The sub-tensor at `index` along `axis`, that axis removed (one step of a Scan). */
export function sliceAlong(tensor: Tensor, axis: number, index: number): Tensor {
  const outer = tensor.dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = tensor.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const length = tensor.dims[axis];
  const data = new (tensor.data.constructor as new (n: number) => Tensor['data'])(outer * inner);
  for (let o = 0; o < outer; o++) (data as Float32Array).set((tensor.data as Float32Array).subarray((o * length + index) * inner, (o * length + index + 1) * inner), o * inner);
  return { dtype: tensor.dtype, dims: [...tensor.dims.slice(0, axis), ...tensor.dims.slice(axis + 1)], data };
}
