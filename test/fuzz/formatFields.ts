/**
 * Where each file format keeps its lengths, counts and dimensions, so 'inflate' can make exactly
 * those lie (a random flip rarely hits one), and which checksums to make right again after a
 * mutation, so the decoder under test gets past its checksum to the code behind it.
 */
export type FileFormat = 'onnx' | 'npy' | 'npz' | 'h5' | 'png' | 'jpeg' | 'cali_table' | 'qtable' | 'one_config';

export interface InflationTarget {
  readonly name: string;
  /** The file with this field set to `value` (a new array; the input is left alone). */
  write(value: number): Uint8Array;
  /** What `write(value)` puts in the file, where that is not the number itself (text formats). */
  label?(value: number): string;
}

const TEXT_FORMATS = new Set<FileFormat>(['cali_table', 'qtable', 'one_config']);
const MAX_TARGETS = 48;

export function inflationTargets(bytes: Uint8Array, format: FileFormat): InflationTarget[] {
  const targets = [...numberTargets(bytes, format), ...binaryTargets(bytes, format)];
  // Bounded: a 600 KB model has thousands of candidate fields; a sample of them is enough per case.
  return targets.length <= MAX_TARGETS ? targets : targets.filter((_, i) => i % Math.ceil(targets.length / MAX_TARGETS) === 0);
}

function binaryTargets(bytes: Uint8Array, format: FileFormat): InflationTarget[] {
  switch (format) {
    case 'png': return pngTargets(bytes);
    case 'jpeg': return jpegTargets(bytes);
    case 'npz': return zipTargets(bytes);
    case 'npy': return bytes.length >= 10 ? [uint(bytes, 8, 2, 'le', 'npy header length')] : [];
    case 'onnx': return protobufTargets(bytes);
    case 'h5': return h5Targets(bytes);
    default: return [];
  }
}

/** A little- or big-endian unsigned field of `width` bytes at `at`. */
function uint(bytes: Uint8Array, at: number, width: number, order: 'le' | 'be', name: string): InflationTarget {
  return {
    name: `${name} (@${at})`,
    write(value) {
      const out = bytes.slice();
      for (let k = 0; k < width && at + k < out.length; k++) {
        const shift = 8 * (order === 'le' ? k : width - 1 - k);
        out[at + k] = shift >= 32 ? 0 : (value / 2 ** shift) & 0xff;
      }
      return out;
    },
  };
}

const readU32be = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

function pngTargets(b: Uint8Array): InflationTarget[] {
  const out: InflationTarget[] = [];
  for (let at = 8; at + 8 <= b.length;) {
    const length = readU32be(b, at);
    const type = ascii(b, at + 4, 4);
    out.push(uint(b, at, 4, 'be', `PNG ${type} length`));
    if (type === 'IHDR') {
      out.push(uint(b, at + 8, 4, 'be', 'PNG width'), uint(b, at + 12, 4, 'be', 'PNG height'), uint(b, at + 16, 1, 'be', 'PNG bit depth'), uint(b, at + 17, 1, 'be', 'PNG colour type'));
    }
    at += 12 + length;
  }
  return out;
}

function jpegTargets(b: Uint8Array): InflationTarget[] {
  const out: InflationTarget[] = [];
  for (let at = 2; at + 4 <= b.length;) {
    if (b[at] !== 0xff) break;
    const marker = b[at + 1];
    if (marker === 0xda) break; // entropy-coded data follows: no more segment lengths to find by walking
    out.push(uint(b, at + 2, 2, 'be', `JPEG segment ${marker.toString(16)} length`));
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.push(uint(b, at + 5, 2, 'be', 'JPEG height'), uint(b, at + 7, 2, 'be', 'JPEG width'), uint(b, at + 9, 1, 'be', 'JPEG components'));
    }
    at += 2 + ((b[at + 2] << 8) | b[at + 3]);
  }
  return out;
}

/** The zip records of an .npz: local headers, central directory entries, end of central directory. */
function zipTargets(b: Uint8Array): InflationTarget[] {
  const out: InflationTarget[] = [];
  for (let at = 0; at + 4 <= b.length; at++) {
    if (b[at] !== 0x50 || b[at + 1] !== 0x4b) continue;
    const kind = (b[at + 2] << 8) | b[at + 3];
    if (kind === 0x0304) out.push(uint(b, at + 18, 4, 'le', 'zip local compressed size'), uint(b, at + 22, 4, 'le', 'zip local size'), uint(b, at + 26, 2, 'le', 'zip local name length'), uint(b, at + 28, 2, 'le', 'zip local extra length'));
    if (kind === 0x0102) out.push(uint(b, at + 20, 4, 'le', 'zip central compressed size'), uint(b, at + 24, 4, 'le', 'zip central size'), uint(b, at + 28, 2, 'le', 'zip central name length'), uint(b, at + 42, 4, 'le', 'zip local header offset'));
    if (kind === 0x0506) out.push(uint(b, at + 10, 2, 'le', 'zip entry count'), uint(b, at + 12, 4, 'le', 'zip directory size'), uint(b, at + 16, 4, 'le', 'zip directory offset'));
  }
  return out;
}

/**
 * HDF5 keeps sizes and addresses as 8-byte little-endian fields throughout its metadata, at no
 * fixed place: the superblock's, and aligned words of the first 4 KB (where h5py puts the object
 * headers and dataspaces of a small file).
 */
function h5Targets(b: Uint8Array): InflationTarget[] {
  const out: InflationTarget[] = [];
  for (let at = 8; at + 8 <= Math.min(b.length, 4096); at += 8) {
    // Small non-zero words are the likely sizes, counts and dimensions.
    const low = b[at] | (b[at + 1] << 8);
    if (low > 0 && low < 4096 && b[at + 2] === 0 && b[at + 3] === 0) out.push(uint(b, at, 8, 'le', 'HDF5 word'));
  }
  return out;
}

/**
 * Protobuf varints right after a tag of wire type 0 (ints: dims, data types, opset versions) or 2
 * (lengths of sub-messages, strings, packed arrays). The new varint may be longer than the old one,
 * which also shifts what follows: both are what a damaged .onnx looks like.
 */
function protobufTargets(b: Uint8Array): InflationTarget[] {
  const out: InflationTarget[] = [];
  for (let at = 0; at + 1 < b.length && out.length < 4096; at++) {
    const wire = b[at] & 7;
    const field = b[at] >> 3;
    if ((wire !== 0 && wire !== 2) || field < 1 || field > 15) continue;
    let end = at + 1;
    while (end < b.length && end - at <= 10 && b[end] & 0x80) end++;
    if (end >= b.length) continue;
    const start = at + 1;
    const stop = end + 1;
    out.push({
      name: `protobuf field ${field} ${wire === 0 ? 'value' : 'length'} (@${at})`,
      write(value) {
        const varint = encodeVarint(value);
        const result = new Uint8Array(b.length - (stop - start) + varint.length);
        result.set(b.subarray(0, start));
        result.set(varint, start);
        result.set(b.subarray(stop), start + varint.length);
        return result;
      },
    });
  }
  return out;
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** In text (tables, JSON, the .npy header's shape tuple): numbers replaced by a huge, negative, non-finite or zero one. */
const TEXT_VALUES: Readonly<Record<number, string>> = { 0x7f: '-1', 0xff: 'nan', 0x80000000: '1e999', 0xffff: '-0' };

function numberTargets(bytes: Uint8Array, format: FileFormat): InflationTarget[] {
  if (!TEXT_FORMATS.has(format) && format !== 'npy' && format !== 'npz') return [];
  // The npy header is ASCII; in a stored (level 0) .npz it is readable inside the archive too.
  const limit = TEXT_FORMATS.has(format) ? bytes.length : Math.min(bytes.length, 4096);
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, limit));
  const region = TEXT_FORMATS.has(format) ? /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi : /'shape': \(([^)]*)\)/g;
  const out: InflationTarget[] = [];
  for (const match of text.matchAll(region)) {
    if (out.length >= 64) break;
    if (TEXT_FORMATS.has(format)) {
      out.push(textReplace(bytes, match.index, match[0].length, `number "${match[0]}"`));
    } else {
      // Each dimension of the shape tuple, keeping the header's length by eating its space padding.
      for (const dim of match[1].matchAll(/\d+/g)) {
        const at = match.index + "'shape': (".length + dim.index;
        out.push(textReplace(bytes, at, dim[0].length, `npy dimension "${dim[0]}"`, true));
      }
    }
  }
  return out;
}

function textReplace(bytes: Uint8Array, at: number, length: number, name: string, keepLength = false): InflationTarget {
  return {
    name: `${name} (@${at})`,
    label: (value) => TEXT_VALUES[value] ?? String(value),
    write(value) {
      const replacement = new TextEncoder().encode(TEXT_VALUES[value] ?? String(value));
      const grown = replacement.length - length;
      // npy pads its header with spaces before the newline: taking them keeps the declared header length true.
      let tail = bytes.subarray(at + length);
      if (keepLength && grown > 0) {
        const newline = tail.indexOf(0x0a);
        let spaces = 0;
        while (newline - 1 - spaces >= 0 && tail[newline - 1 - spaces] === 0x20 && spaces < grown) spaces++;
        if (spaces === grown) tail = Uint8Array.from([...tail.subarray(0, newline - grown), ...tail.subarray(newline)]);
      }
      const out = new Uint8Array(at + replacement.length + tail.length);
      out.set(bytes.subarray(0, at));
      out.set(replacement, at);
      out.set(tail, at + replacement.length);
      return out;
    },
  };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Rewrites the PNG chunk CRCs in place where the chunk walk still finds them; true if any changed. */
export function repairChecksums(bytes: Uint8Array, format: FileFormat): boolean {
  if (format !== 'png') return false;
  let changed = false;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = readU32be(bytes, at);
    const crcAt = at + 8 + length;
    if (crcAt + 4 > bytes.length) break;
    const crc = crc32(bytes.subarray(at + 4, crcAt));
    if (readU32be(bytes, crcAt) !== crc) {
      bytes[crcAt] = crc >>> 24;
      bytes[crcAt + 1] = (crc >>> 16) & 0xff;
      bytes[crcAt + 2] = (crc >>> 8) & 0xff;
      bytes[crcAt + 3] = crc & 0xff;
      changed = true;
    }
    at = crcAt + 4;
  }
  return changed;
}
