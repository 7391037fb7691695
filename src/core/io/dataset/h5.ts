/*
 * Samsung ONE's calibration .h5 (record-minmax, circle-mpqsolver; compiler/dio-hdf5 HDF5Importer):
 * /value/<sample>/<input>, both decimal indices from "0"; each dataset has the input's shape and
 * dtype (h5py writes bool as an enum FALSE=0/TRUE=1). When group `value` has an attribute
 * `rawData` (ONE's rawdata2hdf5 sets it), each dataset is the input's raw bytes.
 *
 * h5wasm runs the HDF5 C library as WebAssembly. Its default ESM build embeds the .wasm in the
 * JavaScript, so this one import works unchanged in Node, the page and a module worker. A File
 * dropped in the page is mounted with WORKERFS and read in place (no copy of a multi-gigabyte file);
 * bytes (the CLI, tests) go into Emscripten's in-memory FS and out again with FS.unlink.
 * It is imported on first use: the module is 4.8 MB (the .wasm inlined), and most datasets are not .h5.
 */
import type { Dataset, Group, Metadata } from 'h5wasm';
import { DataError, FormatError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { elementCount, formatDims, type DType, type Tensor, type TensorData, type TensorMap } from '../../model/tensor';
import { checkLimit, checkSamples, DEFAULT_LIMITS, formatCount, type SampleBudget } from '../limits';
import { BYTES_PER_ELEMENT, bytesOf, fromBytes } from './dtypes';
import { datasetFileBytes, type BlobLike, type DatasetFile } from './DatasetFile';
import { hdf5Error, quietHdf5 } from './h5Errors';

/** The Emscripten FS calls used here (h5wasm's typings leave FS to @types/emscripten). */
interface EmscriptenFs {
  writeFile(path: string, data: Uint8Array): void;
  unlink(path: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  mount(type: unknown, options: { files: readonly BlobLike[] }, mountpoint: string): void;
  unmount(mountpoint: string): void;
  filesystems: { WORKERFS?: unknown };
}

/**
 * WORKERFS reads a File in place with FileReaderSync, which only Web Workers have. Looked up on
 * globalThis at run time: core is DOM-free, and Node has neither.
 */
function canMount(file: DatasetFile, fs: EmscriptenFs): file is DatasetFile & { blob: BlobLike & { name: string } } {
  const host = globalThis as { File?: abstract new (...args: never[]) => unknown; FileReaderSync?: unknown };
  return 'blob' in file && typeof host.File === 'function' && file.blob instanceof host.File && fs.filesystems.WORKERFS !== undefined && typeof host.FileReaderSync === 'function';
}

/** HDF5's format signature; it sits at byte 0, 512, 1024, 2048... (after a user block). */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** H5T_class_t values in HDF5's H5Tpublic.h. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_ENUM = 8;

function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

let nextFileId = 0;

/** Samples read from a .h5 file, in sample-index order, with a name for each. */
export interface H5Samples {
  readonly samples: TensorMap[];
  readonly sampleNames: string[];
}

/**
 * Reads a Samsung ONE layout .h5 for a model with `inputs` (dataset "i" of each sample feeds
 * input i). Samples come out in numeric order of their index; each is named "data.h5 /value/3",
 * with the `desc` attribute ONE's tools write (the source file) in brackets when there is one.
 * The sample count and each dataset's declared size (shape x element size) are checked against
 * `budget` before any sample is read: a 6 KB file can declare gigabytes.
 * @example await readOneH5(bytes, 'data.h5', inputs) // { samples: [{ a: ..., b: ... }, ...], sampleNames: ['data.h5 /value/0', ...] }
 */
export async function readOneH5(source: DatasetFile, inputs: readonly ValueDesc[], budget: SampleBudget = { limits: DEFAULT_LIMITS, held: 0 }): Promise<H5Samples> {
  const fileName = source.name;
  // Checked first: HDF5 prints a page of diagnostics to the console for a file it cannot open.
  const head = 'bytes' in source ? source.bytes : new Uint8Array(await source.blob.slice(0, 4096).arrayBuffer());
  if (!hasSignature(head)) throw new FormatError(fileName, 'not an HDF5 file (no HDF5 signature)');
  const h5 = await import('h5wasm');
  const h5wasm = h5.default;
  const module = await h5wasm.ready;
  quietHdf5(module); // HDF5 throws one error instead of printing pages of HDF5-DIAG (h5Errors.ts)
  const fs = module.FS as unknown as EmscriptenFs;
  const id = nextFileId++;
  let path: string;
  let release: () => void;
  if (canMount(source, fs)) {
    // A dropped File is mounted, not copied: HDF5 reads the parts it needs straight from the file.
    const mountpoint = `/qbench-mount-${id}`;
    fs.mkdir(mountpoint);
    fs.mount(fs.filesystems.WORKERFS, { files: [source.blob] }, mountpoint);
    path = `${mountpoint}/${source.blob.name}`;
    release = () => {
      fs.unmount(mountpoint);
      fs.rmdir(mountpoint);
    };
  } else {
    path = `/qbench-dataset-${id}.h5`;
    fs.writeFile(path, await datasetFileBytes(source));
    release = () => fs.unlink(path);
  }
  let file: InstanceType<H5wasm['File']> | undefined;
  try {
    file = new h5wasm.File(path, 'r');
    if (file.file_id < 0n) throw new FormatError(fileName, 'HDF5 could not open the file (damaged?)');
    return readSamples(h5, file, fileName, inputs, budget);
  } catch (error) {
    throw hdf5Error(error, fileName);
  } finally {
    if (file && file.file_id >= 0n) file.close();
    release();
  }
}

type H5wasm = typeof import('h5wasm');

function readSamples(h5: H5wasm, file: Group, fileName: string, inputs: readonly ValueDesc[], budget: SampleBudget): H5Samples {
  const { Dataset: DatasetClass, Group: GroupClass } = h5;
  const value = file.get('value');
  if (!(value instanceof GroupClass)) throw new FormatError(fileName, "has no group /value: qbench reads Samsung ONE's layout, /value/<sample>/<input> with indices 0, 1, 2...");
  // ONE checks only that the attribute exists (HDF5Importer::isRawData: attrExists("rawData")).
  const raw = Object.keys(value.attrs).includes('rawData');
  const keys = value.keys();
  const notIndex = keys.find((k) => !/^\d+$/.test(k));
  if (notIndex !== undefined) throw new FormatError(fileName, `/value/${notIndex} is not a sample index: ONE's layout names samples 0, 1, 2...`);
  checkSamples(budget, keys.length, fileName);
  keys.sort((a, b) => Number(a) - Number(b));
  const inputList = inputs.map((i) => i.name).join(', ');

  const samples: TensorMap[] = [];
  const sampleNames: string[] = [];
  for (const key of keys) {
    const where = `/value/${key}`;
    const group = value.get(key);
    if (!(group instanceof GroupClass)) throw new FormatError(fileName, `${where} is not a group of datasets, one per input`);
    const count = group.keys().length;
    if (count > inputs.length) throw new DataError(`sample ${where} holds ${count} datasets but the model has ${inputs.length} input${inputs.length === 1 ? '' : 's'} (${inputList})`, fileName);
    const sample: TensorMap = {};
    inputs.forEach((input, index) => {
      const dataset = group.get(String(index));
      if (!(dataset instanceof DatasetClass)) throw new DataError(`sample ${where} has no dataset "${index}" for input "${input.name}"`, fileName);
      const at = `${where}/${index}`;
      checkDeclaredSize(dataset, at, fileName, budget);
      sample[input.name] = raw ? rawTensor(dataset, input, at, fileName) : typedTensor(dataset, at, fileName);
    });
    const desc = Object.keys(group.attrs).includes('desc') ? group.attrs.desc.value : null;
    samples.push(sample);
    sampleNames.push(typeof desc === 'string' && desc ? `${fileName} ${where} (${desc})` : `${fileName} ${where}`);
  }
  return { samples, sampleNames };
}

/** A dataset's shape x element size against the array limit, from its metadata: before h5wasm reads (and allocates) it. */
function checkDeclaredSize(dataset: Dataset, at: string, fileName: string, budget: SampleBudget): void {
  const { shape, size } = dataset.metadata;
  if (!shape) return;
  // uint32 is widened to int64 when read: twice the bytes stored.
  const widen = dataset.metadata.type === H5T_INTEGER && !dataset.metadata.signed && size === 4 ? 2 : 1;
  checkLimit(budget.limits, 'tensorBytes', elementCount(shape) * size * widen, `${at} declares shape ${formatDims(shape)} of ${formatCount(size)}-byte elements`, fileName);
}

const isBoolEnum = (m: Metadata) => {
  const members = m.enum_type?.members ?? {};
  return Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1;
};

/** A dataset read with its own dtype and shape (validation compares them with the input later). */
function typedTensor(dataset: Dataset, at: string, fileName: string): Tensor {
  const m = dataset.metadata;
  const dims = m.shape;
  if (!dims) throw new FormatError(fileName, `${at} is an empty (null) dataset`);
  if (m.type === H5T_ENUM && isBoolEnum(m)) {
    const values = dataset.value as Int8Array | Uint8Array;
    return { dtype: 'bool', dims, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  }
  if (m.type !== H5T_INTEGER && m.type !== H5T_FLOAT) throw new FormatError(fileName, `${at} is not a numeric dataset (HDF5 type ${dataset.dtype})`);
  if (!m.littleEndian && m.size > 1) throw new FormatError(fileName, `${at} is big-endian (${dataset.dtype}); store it little-endian`);
  if (m.type === H5T_FLOAT && m.size === 2) throw new FormatError(fileName, `${at} is float16, which h5wasm cannot read; store it as float32, or as raw bytes with the rawData attribute`);
  const value = dataset.value;
  let dtype: DType;
  let data: TensorData;
  if (value instanceof Float32Array) [dtype, data] = ['float32', value];
  else if (value instanceof Float64Array) [dtype, data] = ['float64', value];
  else if (value instanceof Int8Array) [dtype, data] = ['int8', value];
  else if (value instanceof Uint8Array) [dtype, data] = ['uint8', value];
  else if (value instanceof Int16Array) [dtype, data] = ['int16', value];
  else if (value instanceof Uint16Array) [dtype, data] = ['uint16', value];
  else if (value instanceof Int32Array) [dtype, data] = ['int32', value];
  else if (value instanceof Uint32Array) [dtype, data] = ['int64', BigInt64Array.from(value, (v) => BigInt(v))]; // no core uint32: widened, exactly
  else if (value instanceof BigInt64Array) [dtype, data] = ['int64', value];
  else throw new FormatError(fileName, `${at} has HDF5 type ${dataset.dtype}, which qbench cannot feed (float32/64, int8/16/32/64, uint8/16/32, bool)`);
  return { dtype, dims, data };
}

/** A rawData dataset: its bytes reinterpreted as the input's dtype and (fixed) shape. */
function rawTensor(dataset: Dataset, input: ValueDesc, at: string, fileName: string): Tensor {
  const { dtype, dims } = input;
  if (!dtype || dtype === 'other') throw new DataError(`${at} holds raw bytes (rawData), but the dtype of input "${input.name}" is unknown`, fileName);
  if (!dims || dims.some((d) => d === null)) throw new DataError(`${at} holds raw bytes (rawData), but input "${input.name}" has a dynamic shape ${formatDims(dims ?? [])}`, fileName);
  const fixed = dims as number[];
  const value = dataset.value;
  if (!ArrayBuffer.isView(value)) throw new FormatError(fileName, `${at} holds no raw bytes (HDF5 type ${dataset.dtype})`);
  const bytes = bytesOf(value as TensorData);
  const need = elementCount(fixed) * BYTES_PER_ELEMENT[dtype];
  if (bytes.length !== need) throw new DataError(`${at} holds ${bytes.length} raw bytes but input "${input.name}" (${dtype} ${formatDims(fixed)}) needs ${need}`, fileName);
  return { dtype, dims: [...fixed], data: fromBytes(dtype, bytes) };
}
