import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../errors';
import type { Tensor } from '../../model/tensor';
import { formatNpy, parseNpy } from './npy';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../../test/fixtures/data/numpy/${name}`, import.meta.url)));

/** A .npy file written out by hand: magic, version, header length, header text, data bytes. */
function handMade(version: 1 | 2 | 3, header: string, data: number[]): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const text = new TextEncoder().encode(header);
  const padded = Math.ceil((prefix + text.length + 1) / 64) * 64 - prefix; // header + spaces + '\n'
  const out = new Uint8Array(prefix + padded + data.length);
  out.set([0x93, ...'NUMPY'.split('').map((c) => c.charCodeAt(0)), version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, padded, true);
  else new DataView(out.buffer).setUint32(8, padded, true);
  out.set(text, prefix);
  out.fill(0x20, prefix + text.length, prefix + padded - 1);
  out[prefix + padded - 1] = 0x0a;
  out.set(data, prefix + padded);
  return out;
}

describe('parseNpy and formatNpy', () => {
  const tensors: Tensor[] = [
    { dtype: 'float32', dims: [2, 3], data: new Float32Array([0, 1.5, -2, 3.25, 1e-8, -7]) },
    { dtype: 'float64', dims: [4], data: new Float64Array([Math.PI, -0, 1e300, -1e-300]) },
    { dtype: 'float16', dims: [2, 2], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
    { dtype: 'int8', dims: [], data: new Int8Array([-128]) },
    { dtype: 'uint8', dims: [1, 3, 1, 1], data: new Uint8Array([0, 128, 255]) },
    { dtype: 'int16', dims: [3], data: new Int16Array([-32768, 0, 32767]) },
    { dtype: 'uint16', dims: [2], data: new Uint16Array([0, 65535]) },
    { dtype: 'int32', dims: [1, 2], data: new Int32Array([-2147483648, 2147483647]) },
    { dtype: 'int64', dims: [2, 1, 2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, 5n]) },
    { dtype: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) },
    { dtype: 'float32', dims: [0, 4], data: new Float32Array(0) },
  ];
  for (const tensor of tensors) {
    it(`round trip keeps a ${tensor.dtype} ${JSON.stringify(tensor.dims)} tensor`, () => {
      const bytes = formatNpy(tensor);
      expect((bytes.length - tensor.data.byteLength) % 64).toBe(0); // header aligned to 64 bytes
      expect(parseNpy(bytes, 't.npy')).toEqual({ dtype: tensor.dtype, dims: tensor.dims, data: tensor.data });
    });
  }

  it('writes byte for byte what np.save writes', () => {
    const expected = fixture('float32_2x3.npy');
    const written = formatNpy({ dtype: 'float32', dims: [2, 3], data: new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]) });
    expect(written).toEqual(expected);
    expect(formatNpy({ dtype: 'bool', dims: [4], data: new Uint8Array([1, 0, 0, 1]) })).toEqual(fixture('bool_4.npy'));
  });

  it('reads files np.save wrote: int64, bool, float16, and uint32 widened to int64', () => {
    expect(parseNpy(fixture('int64_3.npy'), 'a.npy')).toEqual({ dtype: 'int64', dims: [3], data: new BigInt64Array([-1n, 0n, 2n ** 40n]) });
    expect(parseNpy(fixture('bool_4.npy'), 'a.npy')).toEqual({ dtype: 'bool', dims: [4], data: new Uint8Array([1, 0, 0, 1]) });
    // 0.5, -2, 65504 as IEEE half bits
    expect(parseNpy(fixture('float16_3.npy'), 'a.npy')).toEqual({ dtype: 'float16', dims: [3], data: new Uint16Array([0x3800, 0xc000, 0x7bff]) });
    expect(parseNpy(fixture('uint32_2.npy'), 'a.npy')).toEqual({ dtype: 'int64', dims: [2], data: new BigInt64Array([0n, 4294967295n]) });
  });

  it('reads a version 1.0 file written by hand', () => {
    // magic, version 1.0, header length 0x36 = 54 (10 + 54 = 64), dict, 3 spaces and '\n', then
    // int16 little-endian data: 1 = 01 00, -2 = fe ff, 300 = 2c 01
    const text = "\x93NUMPY\x01\x00\x36\x00{'descr':'<i2','fortran_order':False,'shape':(3,)}   \n\x01\x00\xfe\xff\x2c\x01";
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(bytes.length).toBe(64 + 6);
    expect(parseNpy(bytes, 'hand.npy')).toEqual({ dtype: 'int16', dims: [3], data: new Int16Array([1, -2, 300]) });
  });

  it('reads a version 2.0 header (4-byte length) and native byte order "="', () => {
    // float32 1.0 = 00 00 80 3f, -0.5 = 00 00 00 bf
    const bytes = handMade(2, "{'descr': '=f4', 'fortran_order': False, 'shape': (1, 2), }", [0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf]);
    expect(parseNpy(bytes, 'v2.npy')).toEqual({ dtype: 'float32', dims: [1, 2], data: new Float32Array([1, -0.5]) });
  });

  it('reads a version 3.0 header (utf8) and Python 2 long sizes', () => {
    const bytes = handMade(3, '{"descr": "|u1", "fortran_order": False, "shape": (2L, 1L)}', [7, 9]);
    expect(parseNpy(bytes, 'v3.npy')).toEqual({ dtype: 'uint8', dims: [2, 1], data: new Uint8Array([7, 9]) });
  });

  it('refuses fortran_order True, saying how to re-save', () => {
    expect(() => parseNpy(fixture('fortran_2x3.npy'), 'f.npy')).toThrow(new FormatError('f.npy', 'fortran_order is True (column-major data); save a C-order copy: np.save(path, np.ascontiguousarray(a))'));
    expect(() => parseNpy(fixture('fortran_2x3.npy'), 'f.npy')).toThrow('f.npy: fortran_order is True (column-major data); save a C-order copy: np.save(path, np.ascontiguousarray(a))');
  });

  it('refuses big-endian data, saying how to re-save', () => {
    expect(() => parseNpy(fixture('bigendian_3.npy'), 'be.npy')).toThrow("be.npy: dtype '>f4' is big-endian; save a little-endian copy: np.save(path, a.astype('<f4'))");
  });

  it('a truncated file is a FormatError naming the file', () => {
    const whole = formatNpy({ dtype: 'float32', dims: [2, 3], data: new Float32Array(6) });
    const cut = whole.subarray(0, whole.length - 5);
    expect(() => parseNpy(cut, 'cut.npy')).toThrow(FormatError);
    expect(() => parseNpy(cut, 'cut.npy')).toThrow("cut.npy: truncated: shape [2, 3] of '<f4' needs 24 bytes of data but the file holds 19");
    expect(() => parseNpy(whole.subarray(0, 40), 'cut.npy')).toThrow('cut.npy: truncated: the header says it is 118 bytes long but the file ends after 30');
  });

  it('names what is wrong with other files', () => {
    expect(() => parseNpy(new TextEncoder().encode('hello, world'), 'a.npy')).toThrow('a.npy: not a .npy file (it does not start with \\x93NUMPY)');
    expect(() => parseNpy(handMade(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", []), 'c.npy')).toThrow(
      "c.npy: dtype '<c8' is not supported (float16/32/64, int8/16/32/64, uint8/16/32 and bool are)",
    );
    expect(() => parseNpy(handMade(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", []), 's.npy')).toThrow(
      "s.npy: the header's descr is not a simple dtype string (structured arrays are not supported): {'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
    );
    const v4 = handMade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", [0, 0, 0, 0]);
    v4[6] = 4;
    expect(() => parseNpy(v4, 'v4.npy')).toThrow('v4.npy: .npy version 4.0 is not supported (1.0, 2.0 and 3.0 are)');
  });
});
