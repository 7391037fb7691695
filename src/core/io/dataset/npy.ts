/*
 * NumPy .npy reader and writer, after the format spec (numpy/lib/format.py, "NPY format"):
 * magic "\x93NUMPY", version byte pair (1.0, 2.0, 3.0), a little-endian header length (uint16 in
 * 1.0, uint32 in 2.0/3.0), a Python-literal dict {'descr', 'fortran_order', 'shape'} padded with
 * spaces to a 64-byte boundary and ended by '\n', then the raw elements.
 *
 * Why hand-written: the maintained npm reader, npyjs (1.2.0, 2026-08), was checked and is not good
 * enough here. It does not compare the data length with the shape (a truncated file silently gives a
 * short array, or a RangeError naming no file); it rejects the '=' byte order; it turns bool into a
 * JS boolean[]; it reads the header dict with regular expressions; its writer pads headers to 8
 * bytes, not the 64 the spec asks for; and it carries a runtime dependency (cross-fetch). Wrapping
 * it would mean re-checking everything it skips, which is most of this file.
 */
import { FormatError } from '../../errors';
import { elementCount, formatDims, type DType, type Tensor, type TensorData } from '../../model/tensor';
import { checkLimit, DEFAULT_LIMITS, type Limits } from '../limits';
import { bytesOf, fromBytes } from './dtypes';
import { parsePyLiteral, type PyValue } from './pyLiteral';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
/** numpy >= 1.23 pads the header so the growth axis can reach 21 digits when rewritten in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** The element codes qbench reads (descr without its byte-order char), and the core dtype of each. */
const CODES: Readonly<Record<string, DType>> = {
  f2: 'float16', f4: 'float32', f8: 'float64',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'int64', // uint32 has no core dtype: widened to int64, exactly
  b1: 'bool',
};

/** What `formatNpy` writes for each core dtype (numpy's own descr strings). */
const DESCR: Readonly<Record<DType, string>> = {
  float16: '<f2', float32: '<f4', float64: '<f8',
  int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', bool: '|b1',
};

/** One array read from a .npy file: a core Tensor (dims are concrete). */
export interface NpyArray {
  readonly dtype: DType;
  readonly dims: number[];
  readonly data: TensorData;
}

/** What a .npy header declares, and where its data starts. */
export interface NpyHeader {
  readonly dtype: DType;
  /** The dtype as the header spells it ('<f4'). */
  readonly descr: string;
  /** The element code without its byte-order char ('f4', 'u4'...). */
  readonly code: string;
  readonly dims: number[];
  /** Offset of the first element. */
  readonly dataStart: number;
  /** Bytes of data the shape and dtype declare. */
  readonly byteCount: number;
}

/**
 * The length of the prefix and header of a .npy file, from its first 12 bytes; null while fewer
 * have arrived (a reader inflating an .npz entry asks this before the whole entry is there); 0 for
 * bytes that are not a .npy file, whose header parseNpyHeader may refuse at once.
 */
export function npyHeaderEnd(bytes: Uint8Array): number | null {
  if (bytes.length < 12) return null;
  if (MAGIC.some((b, i) => bytes[i] !== b)) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

/**
 * Reads and checks the header of a .npy file: magic, version, dict, dtype, and the declared size
 * against `limits.tensorBytes` (a LimitError before anything is allocated). `bytes` need hold only
 * the header. Little-endian or byte-order-free dtypes only ('<', '|', and '=' read as
 * little-endian); big-endian data and fortran_order True are refused with a FormatError that says
 * how to re-save the array, rather than converted, so what qbench reads is what the file holds.
 */
export function parseNpyHeader(bytes: Uint8Array, fileName: string, limits: Pick<Limits, 'tensorBytes'> = DEFAULT_LIMITS): NpyHeader {
  const fail = (message: string): never => {
    throw new FormatError(fileName, message);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (it does not start with \\x93NUMPY)');
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`.npy version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated: the file ends inside the header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) fail(`truncated: the header says it is ${headerLength} bytes long but the file ends after ${bytes.length - headerStart}`);
  // 1.0 and 2.0 headers are latin1; 3.0 allows utf8 (for structured field names).
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  let header: PyValue;
  try {
    header = parsePyLiteral(headerText);
  } catch (error) {
    return fail(`the header is not a Python dict literal: ${(error as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || header.kind !== 'dict') return fail(`the header is not a dict: ${headerText.trim()}`);
  const descr = header.entries.get('descr');
  const fortranOrder = header.entries.get('fortran_order');
  const shape = header.entries.get('shape');
  if (typeof descr !== 'string') return fail(`the header's descr is not a simple dtype string (structured arrays are not supported): ${headerText.trim()}`);
  if (typeof fortranOrder !== 'boolean') return fail(`the header has no fortran_order True/False: ${headerText.trim()}`);
  if (shape === null || typeof shape !== 'object' || shape.kind !== 'tuple' || !shape.items.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    return fail(`the header's shape is not a tuple of sizes: ${headerText.trim()}`);
  }
  const dims = shape.items as number[];

  const order = descr[0];
  const code = '<>|='.includes(order) ? descr.slice(1) : descr;
  const dtype = CODES[code];
  if (!dtype) return fail(`dtype '${descr}' is not supported (float16/32/64, int8/16/32/64, uint8/16/32 and bool are)`);
  const itemSize = Number(code.slice(1));
  if (order === '>' && itemSize > 1) return fail(`dtype '${descr}' is big-endian; save a little-endian copy: np.save(path, a.astype('<${code}'))`);
  if (fortranOrder) return fail(`fortran_order is True (column-major data); save a C-order copy: np.save(path, np.ascontiguousarray(a))`);
  const byteCount = elementCount(dims) * itemSize;
  // uint32 is widened to int64: what is allocated is twice what is stored.
  const allocated = code === 'u4' ? byteCount * 2 : byteCount;
  checkLimit(limits, 'tensorBytes', allocated, `the header declares shape ${formatDims(dims)} of '${descr}'`, fileName);
  return { dtype, descr, code, dims: [...dims], dataStart, byteCount };
}

/**
 * Reads a .npy file (parseNpyHeader says what is accepted). Bytes after the last element are
 * ignored, as `np.load` does.
 * @example parseNpy(formatNpy({ dtype: 'int32', dims: [2], data: new Int32Array([7, 8]) }), 'a.npy') // { dtype: 'int32', dims: [2], data: Int32Array [7, 8] }
 */
export function parseNpy(bytes: Uint8Array, fileName: string, limits: Pick<Limits, 'tensorBytes'> = DEFAULT_LIMITS): NpyArray {
  const { dtype, descr, code, dims, dataStart, byteCount } = parseNpyHeader(bytes, fileName, limits);
  const available = bytes.length - dataStart;
  if (available < byteCount) {
    throw new FormatError(fileName, `truncated: shape ${formatDims(dims)} of '${descr}' needs ${byteCount} bytes of data but the file holds ${available}`);
  }
  const raw = bytes.subarray(dataStart, dataStart + byteCount);
  return { dtype, dims, data: decode(code, raw) };
}

function decode(code: string, raw: Uint8Array): TensorData {
  if (code === 'u4') {
    const u32 = new Uint32Array(raw.slice().buffer);
    return BigInt64Array.from(u32, (v) => BigInt(v));
  }
  if (code === 'b1') return raw.map((b) => (b === 0 ? 0 : 1)); // numpy writes 0/1; any other byte is true
  return fromBytes(CODES[code], raw);
}

/**
 * Writes a tensor as a .npy file, byte for byte what `np.save` (numpy 2) writes for the same array:
 * version 1.0 (2.0 if the header outgrows 65535 bytes), C order, little-endian.
 * @example formatNpy({ dtype: 'float32', dims: [2, 3], data: new Float32Array(6) }).length // 128 + 24
 */
export function formatNpy(tensor: Tensor): Uint8Array {
  const { dtype, dims, data } = tensor;
  if (data.length !== elementCount(dims)) throw new Error(`tensor of shape ${formatDims(dims)} needs ${elementCount(dims)} elements, got ${data.length}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  if (dims.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(dims[0]).length);
  const header = new TextEncoder().encode(dict); // ASCII only
  let version = 1;
  let prefixLength = 10;
  const padding = (prefix: number) => ARRAY_ALIGN - ((prefix + header.length + 1) % ARRAY_ALIGN);
  if (header.length + 1 + padding(10) > 0xffff) {
    version = 2;
    prefixLength = 12;
  }
  const pad = padding(prefixLength);
  const headerLength = header.length + pad + 1;
  const body = bytesOf(data);
  const out = new Uint8Array(prefixLength + headerLength + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(header, prefixLength);
  out.fill(0x20, prefixLength + header.length, prefixLength + header.length + pad);
  out[prefixLength + headerLength - 1] = 0x0a;
  out.set(body, prefixLength + headerLength);
  return out;
}

