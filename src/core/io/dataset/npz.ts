import { Unzip, UnzipInflate, unzipSync, type UnzipFile, type UnzipFileInfo } from 'fflate';
import { DataError, FormatError, errorMessage } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { checkLimit, DEFAULT_LIMITS, formatCount, type Limits } from '../limits';
import { npyHeaderEnd, parseNpy, parseNpyHeader, type NpyArray } from './npy';

/**
 * Compressed bytes handed to the inflater at a time. Deflate expands at most about 1032:1, so one
 * step makes at most ~4 MB before the byte count is checked again: a bomb stops near the limit.
 */
const STEP = 4 * 1024;

/** np.load's own cap on a header (numpy/lib/_format_impl.py, `_MAX_HEADER_SIZE`): an entry claiming more is not waited for. */
const MAX_HEADER_BYTES = 10_000;

/**
 * Reads a .npz (a zip of .npy entries, stored or deflated: `np.savez`, `np.savez_compressed`) and
 * matches its entries to the model inputs, TPU-MLIR style: entry "x.npy" feeds input "x"; entries
 * named "arr_0", "arr_1"... (positional `np.savez(path, a, b)`) feed the inputs in model order.
 * Throws a DataError for an input with no entry and for an entry no input takes, before anything is
 * inflated. Entries are inflated as a stream that stops at `limits.archiveBytes` (all entries
 * together) and at each entry's declared array size (`limits.tensorBytes`, read from its .npy
 * header as soon as it is out): a LimitError, not gigabytes of zeros.
 * @example readNpz(zipSync({ 'x.npy': formatNpy(t) }), 'a.npz', [{ name: 'x', dtype: 'float32', dims: [1, 4] }]) // Map { 'x' => {...} }
 */
export function readNpz(bytes: Uint8Array, fileName: string, inputs: readonly ValueDesc[], limits: Pick<Limits, 'archiveBytes' | 'tensorBytes'> = DEFAULT_LIMITS): Map<string, NpyArray> {
  const listed = listEntries(bytes, fileName);
  const keyOf = (path: string) => (path.endsWith('.npy') ? path.slice(0, -4) : path);
  const keys = new Set(listed.map((e) => keyOf(e.name)));
  const inputNames = inputs.map((i) => i.name);
  const entryList = [...keys].join(', ') || 'none';

  const wanted = new Map<string, string>(); // entry key -> input name
  inputs.forEach((input, index) => {
    const key = keys.has(input.name) ? input.name : `arr_${index}`;
    if (!keys.has(key)) {
      throw new DataError(`has no entry for input "${input.name}" (entries: ${entryList}); name each entry after its input (${inputNames.join(', ')}) or arr_0, arr_1... in input order`, fileName);
    }
    wanted.set(key, input.name);
  });
  for (const key of keys) {
    if (!wanted.has(key)) throw new DataError(`entry "${key}" matches no model input (inputs: ${inputNames.join(', ')})`, fileName);
  }
  // The sizes the archive declares are checked first: an honest bomb costs nothing.
  const declared = listed.reduce((sum, e) => sum + e.originalSize, 0);
  checkLimit(limits, 'archiveBytes', declared, `its entries declare ${listed.length === 1 ? 'an inflated size' : 'inflated sizes adding up to'}`, fileName);

  const contents = inflateEntries(bytes, fileName, limits);
  const arrays = new Map<string, NpyArray>();
  for (const [key, input] of wanted) {
    const path = listed.find((e) => keyOf(e.name) === key)!.name;
    const content = contents.get(path);
    if (!content) throw new FormatError(fileName, `entry "${path}" is listed in the archive's directory but its data could not be found (damaged?)`);
    arrays.set(input, parseNpy(content, `${fileName}/${key}.npy`, limits));
  }
  return arrays;
}

/** The entries the archive's central directory lists (directories left out); nothing is inflated. */
function listEntries(bytes: Uint8Array, fileName: string): UnzipFileInfo[] {
  const listed: UnzipFileInfo[] = [];
  try {
    unzipSync(bytes, {
      filter: (info) => {
        if (!info.name.endsWith('/')) listed.push(info);
        return false;
      },
    });
  } catch (error) {
    throw new FormatError(fileName, `not a readable .npz (zip) archive: ${errorMessage(error)}`);
  }
  return listed;
}

/** One entry as it inflates: its chunks until its .npy header is out, then a buffer of the size the header declares. */
interface EntrySink {
  chunks: Uint8Array[];
  received: number;
  /** Where the .npy header ends, once its first 12 bytes are out. */
  headerEnd?: number;
  /** Set once the header is read: the bytes np.load reads (later ones are ignored, as it ignores them). */
  content?: Uint8Array;
}

/**
 * Inflates every entry with fflate's streaming Unzip, STEP compressed bytes at a time, and stops
 * with a LimitError as soon as the archive passes `archiveBytes` or an entry's header declares an
 * array over `tensorBytes`. Returns each entry's bytes by path.
 */
function inflateEntries(bytes: Uint8Array, fileName: string, limits: Pick<Limits, 'archiveBytes' | 'tensorBytes'>): Map<string, Uint8Array> {
  const sinks = new Map<string, EntrySink>();
  let inflated = 0;
  let stop: unknown;
  const accept = (path: string, sink: EntrySink, data: Uint8Array) => {
    inflated += data.length;
    if (sink.content) {
      // Past the declared data: bytes np.load would ignore, counted and dropped.
      if (sink.received < sink.content.length) sink.content.set(data.subarray(0, sink.content.length - sink.received), sink.received);
      sink.received += data.length;
    } else {
      sink.chunks.push(data);
      sink.received += data.length;
      readHeader(path, sink);
    }
    checkLimit(limits, 'archiveBytes', inflated, 'its entries inflate to more than they declare', fileName);
  };
  /** Once an entry's .npy header is out: its declared size checked, and the buffer for it made. */
  const readHeader = (path: string, sink: EntrySink) => {
    // The chunks are joined only once the header can be whole, so a long header costs no repeated copies.
    if (sink.headerEnd === undefined) {
      sink.headerEnd = npyHeaderEnd(concat(sink.chunks, sink.received)) ?? undefined;
      if (sink.headerEnd !== undefined && sink.headerEnd > MAX_HEADER_BYTES) {
        throw new FormatError(`${fileName}/${path}`, `the .npy header says it is ${sink.headerEnd} bytes long; np.load refuses headers over ${MAX_HEADER_BYTES} bytes, and so does qbench`);
      }
    }
    if (sink.headerEnd === undefined || sink.received < sink.headerEnd) return;
    const head = concat(sink.chunks, sink.received);
    const name = `${fileName}/${path}`;
    const header = parseNpyHeader(head, name, limits);
    // What the header declares must fit in what the archive may still inflate: known now, not after inflating it.
    const before = inflated - sink.received;
    const size = header.dataStart + header.byteCount;
    const what = before > 0 ? `the .npy header of entry "${path}" declares ${formatCount(size)} bytes, which bring the archive to` : `the .npy header of entry "${path}" declares a size`;
    checkLimit(limits, 'archiveBytes', before + size, what, fileName);
    // The array's buffer is made once, at the size its header declares (checked just above).
    sink.content = new Uint8Array(Math.max(head.length, size));
    sink.content.set(head);
    sink.chunks = [];
  };
  const unzip = new Unzip((file: UnzipFile) => {
    if (file.name.endsWith('/')) return;
    const sink: EntrySink = { chunks: [], received: 0 };
    sinks.set(file.name, sink);
    file.ondata = (error, data) => {
      if (stop) return;
      try {
        if (error) throw new FormatError(fileName, `entry "${file.name}" cannot be inflated (damaged?): ${errorMessage(error)}`);
        accept(file.name, sink, data);
      } catch (failure) {
        stop = failure;
        file.terminate();
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < bytes.length && !stop; at += STEP) unzip.push(bytes.subarray(at, at + STEP), at + STEP >= bytes.length);
  } catch (error) {
    stop ??= new FormatError(fileName, `not a readable .npz (zip) archive: ${errorMessage(error)}`);
  }
  if (stop) throw stop;
  const contents = new Map<string, Uint8Array>();
  for (const [path, sink] of sinks) contents.set(path, sink.content?.subarray(0, Math.min(sink.content.length, sink.received)) ?? concat(sink.chunks, sink.received));
  return contents;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
